/* fuzz_redis_url.c - libFuzzer target: bytes as a --redis URL, and as an --invalidate key template compiled against a fixed table and rendered from one record. */
#include "fuzz_common.h"

#include "../core/buf.h"
#include "../stages/invalidate.h"
#include "../stages/transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz invariant broken: %s\n", what);
		abort();
	}
}

/* One record's values, valid for their columns in table order (i2 ... by):
 * the renderings a template may ask for. */
static const char *const values[FUZZ_COLUMNS] = {
    "12",
    " -3",
    "+0007",
    "1.5",
    "-0",
    "3.14159",
    "1e3",
    "yes",
    "a{b}",
    "abc  ",
    "x",
    "2024-02-29",
    "2024-01-01 10:00",
    "2024-01-01 10:00:00.1234",
    "now",
    "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
    "{}",
    "[1]",
    "\\x00",
    "1 day",
};

static void fuzz_url(const char *s)
{
	struct inval_redis_url u;
	struct err e;
	err_clear(&e);
	if (inval_redis_parse_url(s, &u, &e) < 0) {
		check(e.code != 0 && e.msg[0] != '\0', "a refused URL says why");
		return;
	}
	check(memchr(u.host, '\0', sizeof u.host) != NULL, "the host ends inside its buffer");
	check(memchr(u.user, '\0', sizeof u.user) != NULL, "the user ends inside its buffer");
	check(memchr(u.password, '\0', sizeof u.password) != NULL, "the password ends inside its buffer");
	check(u.port >= 0 && u.port <= 65535, "the port is a port");
	check(u.db >= 0, "the database number is not negative");
}

static void fuzz_template(const char *s)
{
	struct fuzz_flags fl = {.tz_utc = true, .text_only = true};
	struct table_column cols[FUZZ_COLUMNS];
	struct table_info t;
	fuzz_table(&t, cols, &fl);
	struct mapping m;
	struct err e;
	check(transform_map_list(&m, &t, NULL, &e) == 0, "every column maps");
	struct inval_template *tp = NULL;
	if (inval_compile(s, &t, &m, INVAL_UNLINK, &tp, &e) == 0) {
		struct field fields[FUZZ_COLUMNS];
		for (uint32_t k = 0; k < m.nfields; k++)
			fields[k] = (struct field){.ptr = values[m.col[k]], .len = strlen(values[m.col[k]])};
		struct buf key;
		check(buf_init(&key, 64) == 0, "memory for a key");
		int rc = inval_render(tp, &t, fields, &key, &e);
		check(rc == 1 || rc == -1, "a record with no NULL renders or says why not");
		check(rc != -1 || key.len == 0, "a key not rendered leaves nothing");
		buf_free(&key);
		inval_template_free(tp);
	}
	transform_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_url(s);
	fuzz_template(s);
	free(s);
	return 0;
}

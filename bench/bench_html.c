/* bench_html.c - bench --html: one self-contained page, the figures' JSON inside it and charts drawn from it by the page's own script (bench/report/). */
#include "bench_suite.h"

#include "../core/buf.h"
#include "../io/atomic_file.h"

#include <errno.h>
#include <string.h>

/* Where the page (bench_report_page.c, built from bench/report/report.html)
 * takes the figures: as data for its script, and as text to read. */
#define MARK_JSON "<!--@bench-json-->"
#define MARK_TEXT "<!--@bench-text-->"

extern const char bench_report_page[];
extern const size_t bench_report_page_len;

/* Inside <script type="application/json"> nothing may close the element:
 * '<' only ever stands inside a JSON string, where \u003c means the same. */
static void put_json_data(struct buf *b, const char *json, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (json[i] == '<')
			buf_puts(b, "\\u003c");
		else
			buf_putc(b, json[i]);
	}
}

static void put_html_text(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '&': buf_puts(b, "&amp;"); break;
		default: buf_putc(b, s[i]);
		}
	}
}

int bench_html_write(const char *path, const char *json, size_t len, struct err *e)
{
	struct buf b;
	if (buf_init(&b, bench_report_page_len + 3 * len) < 0)
		return err_set(e, EXIT_SOFTWARE, "--html %s: out of memory", path);
	/* The page with each marker replaced, in the order they come. The
	 * build made it from bench/report/report.html, which has one of each. */
	const char *p = bench_report_page, *end = p + bench_report_page_len;
	int seen = 0;
	for (;;) {
		const char *j = strstr(p, MARK_JSON), *t = strstr(p, MARK_TEXT);
		const char *next = j != NULL && (t == NULL || j < t) ? j : t;
		if (next == NULL)
			break;
		buf_put(&b, p, (size_t)(next - p));
		if (next == j) {
			put_json_data(&b, json, len);
			p = j + strlen(MARK_JSON);
		} else {
			put_html_text(&b, json, len);
			p = t + strlen(MARK_TEXT);
		}
		seen++;
	}
	ASSERT(seen == 2);
	buf_put(&b, p, (size_t)(end - p));
	const char *what = "write";
	int rc = atomic_file_write(path, b.data, b.len, &what);
	int saved = errno;
	buf_free(&b);
	if (rc < 0)
		return err_set(e, EXIT_CONFIG, "cannot %s --html %s: %s", what, path, strerror(saved));
	return 0;
}

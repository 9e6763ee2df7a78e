/* replay.c - reads a rejects file back into memfds of raw records, one per header (JSON by io/json_read.c). */
#include "replay.h"

#include "atomic_file.h"
#include "json_read.h"

#include "../core/buf.h"
#include "../core/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A group's records are collected and written to its memfd in blocks of
 * about this size, not one write per record. */
#define REPLAY_FLUSH_BYTES ((size_t)64 << 10)

/* ------------------------------------------------------------------ lines */

/* What replay takes from one reject line. */
struct reject_line {
	bool has_raw, has_header, has_source;
	struct jspan raw, header, source;
	uint64_t record;
	bool raw_invalid_utf8, raw_truncated, header_invalid_utf8, header_truncated;
};

static bool key_is(const struct buf *k, const char *name)
{
	return k->len == strlen(name) && memcmp(k->data, name, k->len) == 0;
}

/* A boolean flag's value: true or false, nothing else. */
static int jflag(struct jcur *j, bool *v)
{
	if (j->p < j->end && *j->p == 't') {
		*v = true;
		return jliteral(j, "true");
	}
	if (j->p < j->end && *j->p == 'f') {
		*v = false;
		return jliteral(j, "false");
	}
	return jfail(j, "a flag of a reject line must be true or false");
}

/* A string or null; *has says which. */
static int jstring_or_null(struct jcur *j, bool *has, struct jspan *s, const char *why)
{
	if (j->p < j->end && *j->p == '"') {
		*has = true;
		return jstring(j, s);
	}
	if (j->p < j->end && *j->p == 'n') {
		*has = false;
		return jliteral(j, "null");
	}
	return jfail(j, why);
}

/* Parses one line (not blank) as a reject object. key is scratch space. */
static int parse_reject_line(struct jcur *j, struct reject_line *rl, struct buf *key)
{
	memset(rl, 0, sizeof *rl);
	jskip_ws(j);
	if (j->p == j->end || *j->p != '{')
		return jfail(j, "not a JSON object");
	j->p++;
	jskip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
	} else {
		for (;;) {
			struct jspan ks;
			if (j->p == j->end || *j->p != '"')
				return jfail(j, "an object key must be a string");
			if (jstring(j, &ks) < 0)
				return -1;
			/* Keys are compared unescaped: "r\u0061w" is raw. */
			key->len = 0;
			junescape(&ks, false, key);
			jskip_ws(j);
			if (j->p == j->end || *j->p != ':')
				return jfail(j, "a ':' must follow an object key");
			j->p++;
			jskip_ws(j);
			int rc;
			if (key_is(key, "raw")) {
				if (j->p == j->end || *j->p != '"')
					return jfail(j, "\"raw\" must be a string");
				rl->has_raw = true;
				rc = jstring(j, &rl->raw);
			} else if (key_is(key, "header")) {
				rc = jstring_or_null(j, &rl->has_header, &rl->header,
						     "\"header\" must be a string or null");
			} else if (key_is(key, "source")) {
				rc = jstring_or_null(j, &rl->has_source, &rl->source,
						     "\"source\" must be a string or null");
			} else if (key_is(key, "record")) {
				bool whole;
				const unsigned char *at = j->p;
				if (j->p == j->end || !(*j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
					return jfail(j, "\"record\" must be a whole number");
				rc = jnumber(j, &whole, &rl->record);
				if (rc == 0 && !whole) {
					j->p = at;
					return jfail(j, "\"record\" must be a whole number");
				}
			} else if (key_is(key, "raw_invalid_utf8")) {
				rc = jflag(j, &rl->raw_invalid_utf8);
			} else if (key_is(key, "raw_truncated")) {
				rc = jflag(j, &rl->raw_truncated);
			} else if (key_is(key, "header_invalid_utf8")) {
				rc = jflag(j, &rl->header_invalid_utf8);
			} else if (key_is(key, "header_truncated")) {
				rc = jflag(j, &rl->header_truncated);
			} else {
				rc = jskip_value(j, 1);
			}
			if (rc < 0)
				return -1;
			jskip_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				jskip_ws(j);
				continue;
			}
			if (j->p < j->end && *j->p == '}') {
				j->p++;
				break;
			}
			return jfail(j, "a ',' or '}' must follow a member");
		}
	}
	jskip_ws(j);
	if (j->p != j->end)
		return jfail(j, "text after the object");
	if (!rl->has_raw) {
		j->p = j->start;
		return jfail(j, "no \"raw\" string: not a line of a rejects file");
	}
	return 0;
}

/* Whether a line holds only JSON white space. */
static bool line_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* ------------------------------------------------------------------ framing */

/* What the framing makes of a raw record replayed in a file. */
enum raw_kind {
	RAW_PLAIN,     /* framed again as it was */
	RAW_ENDS_OPEN, /* runs into whatever follows: must end its file */
	RAW_CR,        /* holds a CR outside quotes: never loads, not replayed */
};

/* Classifies raw with stages/frame.c's rules (PostgreSQL's CopyReadLineText)
 * from the start of a record: a quote (CSV) or a backslash (text) still open
 * at its end, or a CR outside quotes and not escaped. */
static enum raw_kind raw_classify(const struct replay_framing *fr, const unsigned char *p, size_t n)
{
	if (fr == NULL || fr->format == REPLAY_LINES)
		return RAW_PLAIN;
	bool cr = false, open;
	if (fr->format == REPLAY_TEXT) {
		bool bs = false;
		for (size_t i = 0; i < n; i++) {
			if (bs)
				bs = false;
			else if (p[i] == '\\')
				bs = true;
			else if (p[i] == '\r')
				cr = true;
		}
		open = bs;
	} else {
		int quote = fr->quote ? (unsigned char)fr->quote : '"';
		int escape = fr->escape && (unsigned char)fr->escape != quote ? (unsigned char)fr->escape : -1;
		bool in_quote = false, last_was_esc = false;
		for (size_t i = 0; i < n; i++) {
			int c = p[i];
			if (in_quote && c == escape)
				last_was_esc = !last_was_esc;
			if (c == quote && !last_was_esc)
				in_quote = !in_quote;
			if (c != escape)
				last_was_esc = false;
			if (!in_quote && c == '\r')
				cr = true;
		}
		open = in_quote;
	}
	return cr ? RAW_CR : open ? RAW_ENDS_OPEN : RAW_PLAIN;
}

/* ------------------------------------------------------------------ groups */

/* A group while the file is read. */
struct group_build {
	uint64_t hash;
	bool closed; /* a record that must end its file was added */
	struct buf out;
};

struct replay_build {
	const char *path;
	int fd;
	struct replay *r;
	struct group_build *gb; /* parallel to r->groups */
	uint32_t cap;
	uint32_t last; /* the group the previous record went to */
	char *blk;
	size_t blk_len, blk_off;
	bool eof;
	struct buf line, raw, header, key, source;
};

static uint64_t hash_bytes(const char *p, size_t n, bool has)
{
	uint64_t h = has ? 1469598103934665603ull : 0;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

static int group_flush(struct replay_build *b, uint32_t g, struct err *e)
{
	struct buf *o = &b->gb[g].out;
	if (atomic_file_write_all(b->r->groups[g].fd, o->data, o->len) < 0)
		return err_set(e, EXIT_SOFTWARE, "cannot write the replay of %s in memory: %s", b->path,
			       strerror(errno));
	o->len = 0;
	return 0;
}

/* The open group for this header (has: whether there is one), or a new one. */
static int group_for(struct replay_build *b, bool has, uint64_t line_no, struct err *e)
{
	struct replay *r = b->r;
	const char *h = b->header.data;
	size_t hl = has ? b->header.len : 0;
	uint64_t hash = hash_bytes(h, hl, has);
	/* Most lines share the previous line's header: look there first. */
	for (uint32_t k = 0; k <= r->ngroups; k++) {
		uint32_t g = k == 0 ? b->last : r->ngroups - k;
		if (g >= r->ngroups || b->gb[g].closed || b->gb[g].hash != hash)
			continue;
		const struct replay_group *rg = &r->groups[g];
		if ((rg->header != NULL) == has && rg->header_len == hl && (hl == 0 || memcmp(rg->header, h, hl) == 0))
			return (int)g;
	}
	if (r->ngroups == REPLAY_GROUPS_MAX)
		return err_set(e, EXIT_DATAERR,
			       "%s: line %" PRIu64 ": more than %u groups of records to replay (different headers, or "
			       "records that must end their file): split the rejects file",
			       b->path, line_no, REPLAY_GROUPS_MAX);
	if (r->ngroups == b->cap) {
		uint32_t cap = b->cap ? 2 * b->cap : 4;
		struct replay_group *ng = realloc(r->groups, cap * sizeof *ng);
		if (ng != NULL)
			r->groups = ng;
		struct group_build *nb = ng ? realloc(b->gb, cap * sizeof *nb) : NULL;
		if (nb == NULL)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		b->gb = nb;
		b->cap = cap;
	}
	uint32_t g = r->ngroups;
	struct replay_group *rg = &r->groups[g];
	memset(rg, 0, sizeof *rg);
	rg->fd = -1;
	rg->first_line = line_no;
	struct group_build *gb = &b->gb[g];
	memset(gb, 0, sizeof *gb);
	gb->hash = hash;
	if (has) {
		rg->header = malloc(hl + 1);
		if (rg->header == NULL)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		memcpy(rg->header, h, hl);
		rg->header[hl] = '\0';
		rg->header_len = hl;
	}
	r->ngroups++; /* from here on replay_close frees it */
	if (buf_init(&gb->out, REPLAY_FLUSH_BYTES) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	rg->fd = memfd_create("edonu-replay", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (rg->fd < 0)
		return err_set(e, EXIT_SOFTWARE, "cannot make a memfd to replay %s: %s", b->path, strerror(errno));
	if (has) {
		buf_put(&gb->out, h, hl);
		buf_putc(&gb->out, '\n');
		rg->bytes = hl + 1;
	}
	return (int)g;
}

static int add_skip(struct replay_build *b, const struct reject_line *rl, uint64_t line_no, enum replay_skip_why why)
{
	struct replay *r = b->r;
	if (why == REPLAY_SKIP_CUT)
		r->skipped_cut++;
	else
		r->skipped_cr++;
	if (r->nskipped == REPLAY_SKIPPED_LISTED_MAX)
		return 0;
	if (r->skipped == NULL) {
		r->skipped = calloc(REPLAY_SKIPPED_LISTED_MAX, sizeof *r->skipped);
		if (r->skipped == NULL)
			return -1;
	}
	struct replay_skip *sk = &r->skipped[r->nskipped];
	sk->why = why;
	sk->record = rl->record;
	sk->line = line_no;
	sk->source = NULL;
	if (rl->has_source) {
		b->source.len = 0;
		/* The writer escapes a name's bytes that are not UTF-8 as raw's. */
		junescape(&rl->source, true, &b->source);
		sk->source = strndup(b->source.data, b->source.len);
		if (sk->source == NULL)
			return -1;
	}
	r->nskipped++;
	return 0;
}

/* Takes one parsed line into its group, or into the skipped. */
static int take_line(struct replay_build *b, const struct reject_line *rl, uint64_t line_no,
		     const struct replay_framing *fr, struct err *e)
{
	enum replay_skip_why skip = 0;
	enum raw_kind kind = RAW_PLAIN;
	if (rl->raw_truncated || (rl->has_header && rl->header_truncated)) {
		skip = REPLAY_SKIP_CUT;
	} else {
		b->raw.len = 0;
		junescape(&rl->raw, rl->raw_invalid_utf8, &b->raw);
		kind = raw_classify(fr, (const unsigned char *)b->raw.data, b->raw.len);
		if (kind == RAW_CR)
			skip = REPLAY_SKIP_CR;
	}
	if (skip != 0) {
		if (add_skip(b, rl, line_no, skip) < 0)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		return 0;
	}
	b->header.len = 0;
	if (rl->has_header)
		junescape(&rl->header, rl->header_invalid_utf8, &b->header);
	int g = group_for(b, rl->has_header, line_no, e);
	if (g < 0)
		return -1;
	struct replay_group *rg = &b->r->groups[g];
	struct group_build *gb = &b->gb[g];
	if (kind == RAW_ENDS_OPEN)
		gb->closed = true;
	buf_put(&gb->out, b->raw.data, b->raw.len);
	buf_putc(&gb->out, '\n');
	rg->records++;
	rg->bytes += b->raw.len + 1;
	b->r->records++;
	b->last = (uint32_t)g;
	if (gb->out.len >= REPLAY_FLUSH_BYTES)
		return group_flush(b, (uint32_t)g, e);
	return 0;
}

/* The next line into b->line, without its LF: 1, or 0 at the end of the
 * file, or -1 (e set). *nl says whether the line ended with an LF. */
static int next_line(struct replay_build *b, uint64_t line_no, bool *nl, struct err *e)
{
	b->line.len = 0;
	for (;;) {
		if (b->blk_off < b->blk_len) {
			const char *s = b->blk + b->blk_off;
			size_t avail = b->blk_len - b->blk_off;
			const char *lf = memchr(s, '\n', avail);
			size_t n = lf ? (size_t)(lf - s) : avail;
			if (b->line.len + n > REJECT_LINE_BYTES_MAX)
				return err_set(e, EXIT_DATAERR,
					       "%s: line %" PRIu64
					       " is longer than %zu bytes, more than any reject line",
					       b->path, line_no, REJECT_LINE_BYTES_MAX);
			buf_put(&b->line, s, n);
			b->blk_off += n + (lf != NULL);
			if (lf != NULL) {
				*nl = true;
				return 1;
			}
		}
		if (b->eof) {
			*nl = false;
			return b->line.len > 0;
		}
		ssize_t got = read(b->fd, b->blk, REPLAY_READ_BYTES);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, EXIT_NOINPUT, "cannot read the rejects file %s: %s", b->path,
				       strerror(errno));
		}
		b->blk_len = (size_t)got;
		b->blk_off = 0;
		b->eof = got == 0;
	}
}

static void build_free(struct replay_build *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->gb != NULL)
		for (uint32_t g = 0; g < b->r->ngroups; g++)
			buf_free(&b->gb[g].out);
	free(b->gb);
	free(b->blk);
	buf_free(&b->line);
	buf_free(&b->raw);
	buf_free(&b->header);
	buf_free(&b->key);
	buf_free(&b->source);
}

/* Flushes, rewinds and seals every group's memfd. */
static int groups_finish(struct replay_build *b, struct err *e)
{
	for (uint32_t g = 0; g < b->r->ngroups; g++) {
		int fd = b->r->groups[g].fd;
		if (group_flush(b, g, e) < 0)
			return -1;
		/* Sealed, what is loaded is what was read, whoever holds the fd. */
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
		    lseek(fd, 0, SEEK_SET) < 0)
			return err_set(e, EXIT_SOFTWARE, "cannot seal the replay of %s in memory: %s", b->path,
				       strerror(errno));
	}
	return 0;
}

int replay_open(const char *path, const struct replay_framing *framing, struct replay *r, struct err *e)
{
	ASSERT(framing == NULL || framing->format <= REPLAY_TEXT);
	memset(r, 0, sizeof *r);
	struct replay_build b = {.path = path, .r = r, .fd = -1};
	b.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b.fd < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open the rejects file %s: %s", path, strerror(errno));
	int rc = -1;
	b.blk = malloc(REPLAY_READ_BYTES);
	if (b.blk == NULL || buf_init(&b.line, 4096) < 0 || buf_init(&b.raw, 4096) < 0 ||
	    buf_init(&b.header, 256) < 0 || buf_init(&b.key, 32) < 0 || buf_init(&b.source, 256) < 0) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	for (uint64_t line_no = 1;; line_no++) {
		bool nl;
		int got = next_line(&b, line_no, &nl, e);
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		if (line_blank(b.line.data, b.line.len))
			continue;
		struct jcur j = {.p = (const unsigned char *)b.line.data,
				 .end = (const unsigned char *)b.line.data + b.line.len,
				 .start = (const unsigned char *)b.line.data};
		struct reject_line rl;
		if (parse_reject_line(&j, &rl, &b.key) < 0) {
			err_set(e, EXIT_DATAERR, "%s: line %" PRIu64 ", byte %zu: %s%s", path, line_no,
				(size_t)(j.p - j.start) + 1, j.why,
				nl ? "" : " (the last line has no end-of-line: was the file cut short?)");
			goto out;
		}
		if (take_line(&b, &rl, line_no, framing, e) < 0)
			goto out;
	}
	rc = groups_finish(&b, e);
out:
	build_free(&b);
	if (rc < 0)
		replay_close(r);
	return rc;
}

void replay_close(struct replay *r)
{
	for (uint32_t g = 0; g < r->ngroups; g++) {
		if (r->groups[g].fd >= 0)
			close(r->groups[g].fd);
		free(r->groups[g].header);
	}
	free(r->groups);
	for (uint32_t i = 0; i < r->nskipped; i++)
		free(r->skipped[i].source);
	free(r->skipped);
	memset(r, 0, sizeof *r);
}

const char *replay_skip_reason(enum replay_skip_why why)
{
	switch (why) {
	case REPLAY_SKIP_CUT: return "cut short in the rejects file";
	case REPLAY_SKIP_CR: return "a carriage return outside quotes, which COPY refuses in any table";
	}
	return "?";
}

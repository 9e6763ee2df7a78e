/* invalidate_template.h - a compiled key template, shared by the files of the invalidate stage (not part of its interface). */
#ifndef EDONU_INVALIDATE_TEMPLATE_H
#define EDONU_INVALIDATE_TEMPLATE_H

#include "invalidate.h"

#include <stdint.h>

enum render_kind {
	R_INT,
	R_TEXT,
	R_VARCHAR,
	R_BPCHAR,
	R_UUID,
	R_BOOL,
	R_DATE,
	R_NUMERIC,
};

/* One piece of a template: literal bytes, or the value of input field k. */
struct seg {
	bool is_field;
	uint32_t lit_off, lit_len; /* into tp->lit */
	uint32_t field;            /* input field index k */
	uint32_t col;              /* table column m->col[k] */
	enum render_kind rk;
};

/* Literal bytes are copied LIT_COPY bytes at a time (one unaligned load and
 * store); lit has that much slack past its end, and a render reserves it. */
#define LIT_COPY 16u

struct inval_template {
	enum inval_kind kind;
	char *text;
	char *lit; /* LIT_COPY bytes of slack past the literal bytes */
	struct seg *segs;
	uint32_t nsegs;
};

#endif

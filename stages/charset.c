/* charset.c - PostgreSQL's encoding names and aliases, and single-byte input converted to UTF-8 through a table built once from iconv. */
#include "charset.h"

#include "../core/err.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How PostgreSQL's encodings fare as input here. */
enum charset_kind {
	KIND_UTF8,      /* taken as it is, checked by the parsers */
	KIND_SINGLE,    /* converted byte by byte through a table */
	KIND_SQL_ASCII, /* the server stores it unchecked: refused */
	KIND_MULTI,     /* multi-byte other than UTF8: refused */
};

struct encoding {
	const char *name;  /* PostgreSQL's (pg_enc2name_tbl) */
	const char *iconv; /* glibc's name of the same table, for single-byte ones */
	enum charset_kind kind;
};

/* Every encoding PostgreSQL accepts as a client encoding. The single-byte
 * ones map every byte as the server's conversion does (its maps and glibc's
 * agree byte for byte for all of them; tests/integration/encoding_fidelity.sh
 * checks every byte of each against the server). */
static const struct encoding encodings[] = {
    {"UTF8", NULL, KIND_UTF8},
    {"LATIN1", "ISO-8859-1", KIND_SINGLE},
    {"LATIN2", "ISO-8859-2", KIND_SINGLE},
    {"LATIN3", "ISO-8859-3", KIND_SINGLE},
    {"LATIN4", "ISO-8859-4", KIND_SINGLE},
    {"LATIN5", "ISO-8859-9", KIND_SINGLE},
    {"LATIN6", "ISO-8859-10", KIND_SINGLE},
    {"LATIN7", "ISO-8859-13", KIND_SINGLE},
    {"LATIN8", "ISO-8859-14", KIND_SINGLE},
    {"LATIN9", "ISO-8859-15", KIND_SINGLE},
    {"LATIN10", "ISO-8859-16", KIND_SINGLE},
    {"ISO_8859_5", "ISO-8859-5", KIND_SINGLE},
    {"ISO_8859_6", "ISO-8859-6", KIND_SINGLE},
    {"ISO_8859_7", "ISO-8859-7", KIND_SINGLE},
    {"ISO_8859_8", "ISO-8859-8", KIND_SINGLE},
    {"WIN866", "CP866", KIND_SINGLE},
    {"WIN874", "CP874", KIND_SINGLE},
    {"WIN1250", "CP1250", KIND_SINGLE},
    {"WIN1251", "CP1251", KIND_SINGLE},
    {"WIN1252", "CP1252", KIND_SINGLE},
    {"WIN1253", "CP1253", KIND_SINGLE},
    {"WIN1254", "CP1254", KIND_SINGLE},
    {"WIN1255", "CP1255", KIND_SINGLE},
    {"WIN1256", "CP1256", KIND_SINGLE},
    {"WIN1257", "CP1257", KIND_SINGLE},
    {"WIN1258", "CP1258", KIND_SINGLE},
    {"KOI8R", "KOI8-R", KIND_SINGLE},
    {"KOI8U", "KOI8-U", KIND_SINGLE},
    {"SQL_ASCII", NULL, KIND_SQL_ASCII},
    {"MULE_INTERNAL", NULL, KIND_MULTI},
    {"EUC_JP", NULL, KIND_MULTI},
    {"EUC_CN", NULL, KIND_MULTI},
    {"EUC_KR", NULL, KIND_MULTI},
    {"EUC_TW", NULL, KIND_MULTI},
    {"EUC_JIS_2004", NULL, KIND_MULTI},
    {"SJIS", NULL, KIND_MULTI},
    {"BIG5", NULL, KIND_MULTI},
    {"GBK", NULL, KIND_MULTI},
    {"UHC", NULL, KIND_MULTI},
    {"GB18030", NULL, KIND_MULTI},
    {"JOHAB", NULL, KIND_MULTI},
    {"SHIFT_JIS_2004", NULL, KIND_MULTI},
};
#define NENCODINGS (sizeof encodings / sizeof encodings[0])

/* PostgreSQL's other names for them (pg_encname_tbl), in the cleaned form
 * it compares; each encoding's own name, cleaned, is accepted as well. */
static const struct {
	const char *alias;
	const char *name;
} aliases[] = {
    {"abc", "WIN1258"},         {"alt", "WIN866"},          {"iso88591", "LATIN1"},     {"iso88592", "LATIN2"},
    {"iso88593", "LATIN3"},     {"iso88594", "LATIN4"},     {"iso88599", "LATIN5"},     {"iso885910", "LATIN6"},
    {"iso885913", "LATIN7"},    {"iso885914", "LATIN8"},    {"iso885915", "LATIN9"},    {"iso885916", "LATIN10"},
    {"koi8", "KOI8R"},          {"mskanji", "SJIS"},        {"shiftjis", "SJIS"},       {"tcvn", "WIN1258"},
    {"tcvn5712", "WIN1258"},    {"unicode", "UTF8"},        {"vscii", "WIN1258"},       {"win", "WIN1251"},
    {"win932", "SJIS"},         {"win936", "GBK"},          {"win949", "UHC"},          {"win950", "BIG5"},
    {"windows866", "WIN866"},   {"windows874", "WIN874"},   {"windows1250", "WIN1250"}, {"windows1251", "WIN1251"},
    {"windows1252", "WIN1252"}, {"windows1253", "WIN1253"}, {"windows1254", "WIN1254"}, {"windows1255", "WIN1255"},
    {"windows1256", "WIN1256"}, {"windows1257", "WIN1257"}, {"windows1258", "WIN1258"}, {"windows932", "SJIS"},
    {"windows936", "GBK"},      {"windows949", "UHC"},      {"windows950", "BIG5"},
};

const char charset_supported[] =
    "UTF8, LATIN1 to LATIN10, ISO_8859_5 to ISO_8859_8, WIN866, WIN874, WIN1250 to WIN1258, KOI8R, KOI8U";

/* A byte's UTF-8: seq[b][0] is its length (0: none, or a NUL), the rest its
 * bytes. */
struct charset {
	const char *name;
	unsigned char seq[256][4];
};

/* NAMEDATALEN: PostgreSQL knows no longer name. */
#define CHARSET_NAME_MAX 64

/* clean_encoding_name: letters and digits only, letters in lower case. */
static void clean_name(const char *s, char *out)
{
	size_t n = 0;
	for (; *s != '\0'; s++) {
		char c = *s;
		if (c >= 'A' && c <= 'Z')
			out[n++] = (char)(c + ('a' - 'A'));
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[n++] = c;
	}
	out[n] = '\0';
}

static const struct encoding *find_encoding(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= CHARSET_NAME_MAX)
		return NULL;
	char key[CHARSET_NAME_MAX], own[CHARSET_NAME_MAX];
	clean_name(name, key);
	const char *official = NULL;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0] && official == NULL; i++)
		if (strcmp(key, aliases[i].alias) == 0)
			official = aliases[i].name;
	for (size_t i = 0; i < NENCODINGS; i++) {
		clean_name(encodings[i].name, own);
		if (official != NULL ? strcmp(official, encodings[i].name) == 0 : strcmp(key, own) == 0)
			return &encodings[i];
	}
	return NULL;
}

/* Names other programs use that PostgreSQL does not know: a hint. */
static const char *hint_for(const char *name)
{
	char key[CHARSET_NAME_MAX];
	if (strlen(name) >= CHARSET_NAME_MAX)
		return NULL;
	clean_name(name, key);
	static const struct {
		const char *other, *pg;
	} hints[] = {{"cp1250", "WIN1250"}, {"cp1251", "WIN1251"}, {"cp1252", "WIN1252"}, {"cp1253", "WIN1253"},
		     {"cp1254", "WIN1254"}, {"cp1255", "WIN1255"}, {"cp1256", "WIN1256"}, {"cp1257", "WIN1257"},
		     {"cp1258", "WIN1258"}, {"cp866", "WIN866"},   {"cp874", "WIN874"},   {"ascii", "UTF8"},
		     {"usascii", "UTF8"},   {"latin", "LATIN1"},   {"l1", "LATIN1"}};
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
		if (strcmp(key, hints[i].other) == 0)
			return hints[i].pg;
	return NULL;
}

/* The table of a single-byte encoding, byte by byte through iconv: each
 * byte converted alone (a stateful converter such as CP1258's is flushed),
 * as the server converts each byte alone. */
static int build_table(struct charset *cs, const char *iconv_name)
{
	iconv_t cd = iconv_open("UTF-8", iconv_name);
	if (cd == (iconv_t)-1)
		return -1;
	/* ASCII is itself in every one of them; a NUL is refused. */
	for (unsigned b = 1; b < 0x80; b++) {
		cs->seq[b][0] = 1;
		cs->seq[b][1] = (unsigned char)b;
	}
	for (unsigned b = 0x80; b < 0x100; b++) {
		char in = (char)b, out[8];
		char *ip = &in, *op = out;
		size_t il = 1, ol = sizeof out;
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
			continue; /* EILSEQ: no character */
		size_t n = (size_t)(op - out);
		if (n == 0 || n > 3) {
			/* Every character of these tables is one of the BMP's. */
			iconv_close(cd);
			errno = EINVAL;
			return -1;
		}
		cs->seq[b][0] = (unsigned char)n;
		memcpy(&cs->seq[b][1], out, n);
	}
	iconv_close(cd);
	return 0;
}

enum charset_status charset_open(const char *name, struct charset **cs, char *msg, size_t msgsz)
{
	*cs = NULL;
	const struct encoding *enc = find_encoding(name);
	if (enc == NULL) {
		const char *hint = name ? hint_for(name) : NULL;
		snprintf(msg, msgsz, "\"%s\" is not an encoding PostgreSQL knows%s%s%s; supported: %s",
			 name ? name : "", hint ? " (PostgreSQL calls it " : "", hint ? hint : "", hint ? ")" : "",
			 charset_supported);
		return CHARSET_UNKNOWN;
	}
	switch (enc->kind) {
	case KIND_UTF8: return CHARSET_OK;
	case KIND_SQL_ASCII:
		snprintf(msg, msgsz,
			 "SQL_ASCII input is neither converted nor checked by PostgreSQL, which would store bytes "
			 "that are not UTF-8; name the input's encoding instead; supported: %s",
			 charset_supported);
		return CHARSET_UNSUPPORTED;
	case KIND_MULTI:
		snprintf(msg, msgsz,
			 "%s is not supported: of the multi-byte encodings only UTF8 is (convert the input to UTF-8 "
			 "first, e.g. with iconv); supported: %s",
			 enc->name, charset_supported);
		return CHARSET_UNSUPPORTED;
	case KIND_SINGLE: break;
	}
	struct charset *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(msg, msgsz, "out of memory");
		return CHARSET_NO_CONVERTER;
	}
	c->name = enc->name;
	if (build_table(c, enc->iconv) < 0) {
		snprintf(msg, msgsz, "cannot convert %s to UTF-8: the C library's iconv has no converter for %s (%s)",
			 enc->name, enc->iconv, strerror(errno));
		free(c);
		return CHARSET_NO_CONVERTER;
	}
	*cs = c;
	return CHARSET_OK;
}

void charset_free(struct charset *cs)
{
	free(cs);
}

const char *charset_name(const struct charset *cs)
{
	return cs != NULL ? cs->name : "UTF8";
}

/* True when none of the 8 bytes at s has its high bit set or is zero. */
static inline bool ascii8(const unsigned char *s)
{
	uint64_t x;
	memcpy(&x, s, 8);
	const uint64_t high = 0x8080808080808080ull, low = 0x0101010101010101ull;
	return (((x - low) & ~x & high) | (x & high)) == 0;
}

long charset_utf8_len(const struct charset *cs, const char *src, size_t len, char *msg, size_t msgsz)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, i = 0;
	while (i < len) {
		/* Business data is mostly ASCII: 8 bytes at a time. */
		if (i + 8 <= len && ascii8(s + i)) {
			i += 8;
			out += 8;
			continue;
		}
		unsigned n = cs->seq[s[i]][0];
		if (n == 0) {
			/* report_invalid_encoding and report_untranslatable_char. */
			if (s[i] == 0)
				snprintf(msg, msgsz, "invalid byte sequence for encoding \"%s\": 0x00", cs->name);
			else
				snprintf(msg, msgsz,
					 "character with byte sequence 0x%02x in encoding \"%s\" has no equivalent in "
					 "encoding \"UTF8\"",
					 s[i], cs->name);
			return -1;
		}
		out += n;
		i++;
	}
	return (long)out;
}

size_t charset_to_utf8(const struct charset *cs, const char *src, size_t len, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	char *o = dst;
	size_t i = 0;
	while (i < len) {
		size_t run = i;
		while (run + 8 <= len && ascii8(s + run))
			run += 8;
		while (run < len && s[run] < 0x80)
			run++;
		memcpy(o, s + i, run - i);
		o += run - i;
		i = run;
		if (i == len)
			break;
		const unsigned char *q = cs->seq[s[i++]];
		ASSERT(q[0] != 0);
		for (unsigned k = 1; k <= q[0]; k++)
			*o++ = (char)q[k];
	}
	return (size_t)(o - dst);
}

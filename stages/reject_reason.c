/* reject_reason.c - the key a refusal counts under: the server's SQLSTATE, the one PostgreSQL gives
 * the loader's message, or a word for a record's shape; and the tally of them. */
#include "reject_reason.h"

#include "../core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL's messages for what the loader refuses before the server sees
 * it, with the SQLSTATE the server raises them with (its errcodes.txt), or
 * the loader's word for a record's shape. Matched at the start of the
 * message, or anywhere in it where the message starts with the value. */
static const struct reason_rule {
	const char *text;
	bool anywhere;
	const char *key;
} rules[] = {
    {"extra data after last expected column", false, REJECT_REASON_TOO_MANY_COLUMNS},
    {"missing data for column", false, REJECT_REASON_TOO_FEW_COLUMNS},
    {"unterminated CSV quoted field", false, REJECT_REASON_MALFORMED},
    {"unquoted newline found in data", false, REJECT_REASON_MALFORMED},
    {"unquoted carriage return found in data", false, REJECT_REASON_MALFORMED},
    {"literal newline found in data", false, REJECT_REASON_MALFORMED},
    {"literal carriage return found in data", false, REJECT_REASON_MALFORMED},
    {"end-of-copy marker corrupt", false, REJECT_REASON_MALFORMED},
    {"record is longer than", false, REJECT_REASON_TOO_LONG},
    /* invalid_text_representation */
    {"invalid input syntax for type", false, "22P02"},
    /* character_not_in_repertoire: invalid UTF-8, a NUL byte */
    {"invalid byte sequence for encoding", false, "22021"},
    /* untranslatable_character */
    {"has no equivalent in encoding", true, "22P05"},
    {"unsupported Unicode escape sequence", false, "22P05"},
    /* string_data_right_truncation */
    {"value too long for type", false, "22001"},
    /* numeric_value_out_of_range */
    {"value overflows numeric format", false, "22003"},
    {"numeric field overflow", false, "22003"},
    {" is out of range for type ", true, "22003"},
    /* datetime_field_overflow, invalid_time_zone_displacement_value */
    {"date/time field value out of range", false, "22008"},
    {"date out of range", false, "22008"},
    {"timestamp out of range", false, "22008"},
    {"time zone displacement out of range", false, "22009"},
    /* invalid_parameter_value: bytea's hex digits, json_populate_record */
    {"invalid hexadecimal digit", false, "22023"},
    {"invalid hexadecimal data", false, "22023"},
    {"cannot call populate_composite on", false, "22023"},
    /* statement_too_complex: JSON nested too deep */
    {"stack depth limit exceeded", false, "54001"},
};

const char *reject_reason(const char *sqlstate, const char *message)
{
	if (sqlstate != NULL && strlen(sqlstate) == 5)
		return sqlstate;
	if (message == NULL)
		return REJECT_REASON_OTHER;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		const struct reason_rule *r = &rules[i];
		if (r->anywhere ? strstr(message, r->text) != NULL : strncmp(message, r->text, strlen(r->text)) == 0)
			return r->key;
	}
	return REJECT_REASON_OTHER;
}

void reject_tally_add(struct reject_tally *t, const char *key, uint64_t count)
{
	if (count == 0)
		return;
	for (uint32_t i = 0; i < t->n; i++) {
		if (strcmp(t->e[i].key, key) == 0) {
			t->e[i].count += count;
			return;
		}
	}
	/* The last slot is kept for "other", so that a full tally still
	 * counts everything. */
	if (t->n >= REJECT_REASONS_MAX - 1 && strcmp(key, REJECT_REASON_OTHER) != 0) {
		reject_tally_add(t, REJECT_REASON_OTHER, count);
		return;
	}
	ASSERT(t->n < REJECT_REASONS_MAX);
	struct reject_count *c = &t->e[t->n++];
	snprintf(c->key, sizeof c->key, "%s", key);
	c->count = count;
}

void reject_tally_merge(struct reject_tally *into, const struct reject_tally *from)
{
	for (uint32_t i = 0; i < from->n; i++)
		reject_tally_add(into, from->e[i].key, from->e[i].count);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct reject_count *)a)->key, ((const struct reject_count *)b)->key);
}

void reject_tally_sort(struct reject_tally *t)
{
	qsort(t->e, t->n, sizeof t->e[0], by_key);
}

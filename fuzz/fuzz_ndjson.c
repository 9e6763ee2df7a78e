/* fuzz_ndjson.c - libFuzzer target: bytes as NDJSON, through the framer, the JSON lexer and json_populate_record's mapping, and every encoder of a fixed table. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_flags fl;
	if (!fuzz_flags_take(&data, &size, &fl))
		return 0;
	/* NDJSON has no header: keys name the columns. */
	struct dialect d = {.format = FORMAT_NDJSON, .null = "", .null_len = 0, .charset = fuzz_charset(&fl)};
	fuzz_load(&d, &fl, data, size);
	return 0;
}

/* fuzz_text.c - libFuzzer target: bytes as PostgreSQL text-format input, through the framer, the text parser (escapes, \N, \.), the header mapping and every encoder of a fixed table. */
#include "fuzz_common.h"

static const struct dialect variants[4] = {
    {.format = FORMAT_TEXT, .delimiter = '\t', .null = "\\N", .null_len = 2},
    {.format = FORMAT_TEXT, .delimiter = ',', .null = "\\N", .null_len = 2},
    {.format = FORMAT_TEXT, .delimiter = '|', .null = "", .null_len = 0},
    {.format = FORMAT_TEXT, .delimiter = '\t', .null = "NULL", .null_len = 4},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_line_format(variants, data, size);
}

/* fuzz_csv.c - libFuzzer target: bytes as a CSV input, through the framer, the CSV parser, the header mapping and every encoder of a fixed table. */
#include "fuzz_common.h"

/* The dialects --delimiter, --quote, --escape and --null make, one per
 * variant: COPY's default, and others that move the special bytes. */
static const struct dialect variants[4] = {
    {.format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .null_len = 0},
    {.format = FORMAT_CSV, .delimiter = ';', .quote = '\'', .escape = '\\', .null = "NULL", .null_len = 4},
    {.format = FORMAT_CSV, .delimiter = '\t', .quote = '"', .escape = '\\', .null = "\\N", .null_len = 2},
    {.format = FORMAT_CSV, .delimiter = '|', .quote = '`', .escape = '`', .null = "", .null_len = 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_line_format(variants, data, size);
}

/* fuzz_config.c - libFuzzer target: bytes as a --config INI file, read for load or run with every option's parser and the checks across options. */
#include "../pipeline/options.h"
#include "fuzz_common.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One memory file for every input, rewritten each time. */
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (fd < 0)
			return 0;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	char *argv[] = {"edonu-ingest", size > 0 && (data[0] & 1) ? "run" : "load", "--config", path, NULL};
	struct options o;
	struct err e;
	err_clear(&e);
	options_parse(&o, 4, argv, &e);
	options_free(&o);
	return 0;
}

/* bench.h - the benchmark suite: stage by stage, and end to end side by side with psql \copy. */
#ifndef EDONU_BENCH_H
#define EDONU_BENCH_H

#include "../pipeline/options.h"

/* Runs the suite as the options say; returns the exit code: 0, 1 when an
 * end-to-end load falls below 1,000,000 records/min, or another exit_code
 * when the suite could not run. */
int bench_main(const struct options *o, const char *self_path);

#endif

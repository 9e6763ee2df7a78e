/* run.h - the run command: a spool directory loaded as a batch job. */
#ifndef EDONU_RUN_H
#define EDONU_RUN_H

#include "options.h"

#include <stdbool.h>
#include <stdint.h>

/* Loads the spool (o->spool) and returns the worst file's exit code. */
int run_main(const struct options *o);

/* The shard (0..n-1) a file name belongs to under --shard K/N. */
uint32_t run_shard_of(const char *name, uint32_t n);
/* Whether a name is input: not hidden, not .part/.tmp, not a rejects file. */
bool run_file_is_candidate(const char *name);

#endif

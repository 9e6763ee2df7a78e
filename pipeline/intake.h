/* intake.h - the reader thread of a job: sources in, chunks of whole records out to the workers. */
#ifndef EDONU_INTAKE_H
#define EDONU_INTAKE_H

#include "load.h"

/* The thread's body (arg: the struct load of the job): reads every source
 * that is not complete, in order, then tells the workers it is done. A read
 * error fails the job (load_fail). */
void *intake_main(void *arg);

/* --format auto by a name's extension once .zst is stripped; FORMAT_AUTO
 * when the name does not tell. */
int intake_format_from_name(const char *name);

#endif

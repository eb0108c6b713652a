/* scratch.h - a private scratch folder for a unit test file: made under /tmp
 * before its cases run and removed, with what they wrote, after them. */
#ifndef TOA_TEST_SCRATCH_H
#define TOA_TEST_SCRATCH_H

#include <stddef.h>

/* Makes /tmp/PREFIX.XXXXXX and writes its path into DIR. Returns 0 or -1. */
int toa_test_scratch_make (char *dir, size_t size, const char *prefix);

/* Removes DIR and everything in it. Returns 0 or -1. */
int toa_test_scratch_remove (const char *dir);

#endif

/* fuzz.h - shared helpers of the libFuzzer targets in tests/fuzz/ (see
 * run.sh): a NUL-terminated copy of the input, splitting it in parts, and a
 * check that aborts (a finding) with a message. Header-only. */
#ifndef TOA_FUZZ_H
#define TOA_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Aborts with WHAT when CONDITION is false: libFuzzer keeps the input. */
static inline void
fuzz_check (int condition, const char *target, const char *what)
{
    if (!condition) {
        fprintf (stderr, "%s: %s\n", target, what);
        abort ();
    }
}

/* A NUL-terminated copy of DATA (SIZE bytes; inner NULs kept). */
static inline char *
fuzz_text (const uint8_t *data, size_t size)
{
    char *text = malloc (size + 1);
    if (!text)
        abort ();
    if (size)
        memcpy (text, data, size);
    text[size] = 0;
    return text;
}

/* Splits TEXT (modified) at the first SEPARATOR: returns the part after it
 * (or "" when there is none). */
static inline char *
fuzz_split (char *text, char separator)
{
    char *at = strchr (text, separator);
    if (!at)
        return text + strlen (text);
    *at = 0;
    return at + 1;
}

/* True when TEXT (SIZE bytes in a buffer of at least SIZE + 1) is
 * NUL-terminated within it. */
static inline int
fuzz_terminated (const char *text, size_t size)
{
    return memchr (text, '\0', size + 1) != NULL;
}

#endif

/* results.c - a results file, one result at a time (see results.h). */
#include "client/results.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prompts.h"

/* True when RESULT's id is in SEEN (and adds it when not). */
static bool
s_seen_before (json_t *seen, const json_t *result)
{
    char key[TOA_PROMPTS_MAX_ID + 1];
    if (!toa_prompt_id_text (result, key, sizeof key))
        return false;
    if (json_object_get (seen, key))
        return true;
    json_object_set_new (seen, key, json_true ());
    return false;
}

int
toa_results_each (const char *path, toa_results_fn *fn, void *arg,
                  toa_results_counts_t *counts, toa_errors_t *errors)
{
    memset (counts, 0, sizeof *counts);
    FILE *in = fopen (path, "r");
    json_t *seen = json_object ();
    if (!in || !seen) {
        toa_errors_add (errors, "%s: cannot read: %s", path,
                        in ? "out of memory" : strerror (errno));
        if (in)
            fclose (in);
        json_decref (seen);
        return -1;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    long number = 0;
    int rc = 0;
    while (rc == 0 && (length = getline (&line, &capacity, in)) > 0) {
        number++;
        if (line[strspn (line, " \t\r\n")] == '\0')
            continue;
        json_error_t error;
        json_t *result = json_loadb (line, (size_t) length, 0, &error);
        if (!json_is_object (result)) {
            toa_errors_add (errors, "%s:%ld: not a JSON object (%s)", path, number,
                            result ? "other JSON value" : error.text);
            counts->bad++;
        }
        else {
            counts->objects++;
            if (s_seen_before (seen, result))
                counts->duplicates++;
            else
                rc = fn (arg, result, number);
        }
        json_decref (result);
    }
    if (rc == 0 && ferror (in)) {
        toa_errors_add (errors, "%s: read error: %s", path, strerror (errno));
        rc = -1;
    }
    free (line);
    json_decref (seen);
    fclose (in);
    return rc;
}

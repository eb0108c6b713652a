/* status.h - job statuses as `toa status` prints them: an aligned table
 * (job, state, method, done/total, active, generations, failed, waiting) or
 * JSON. Pure apart from the FILE * written to. */
#ifndef TOA_CLIENT_STATUS_H
#define TOA_CLIENT_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "proto/proto.h"

/* Writes a header line and one line per job; "no jobs" when N is 0. */
void toa_status_write_table (FILE *out, const toa_job_status_t *jobs, size_t n);

/* {"jobs": [{"job", "state", "method", "total", "done", "fetched", "active",
 * "generations", "failed", "waiting"}]}. Returns a new reference, or NULL
 * when out of memory. */
json_t *toa_status_json (const toa_job_status_t *jobs, size_t n);

#endif

/* status.c - the table and JSON of `toa status` (see status.h). */
#include "client/status.h"

#include <stdbool.h>
#include <string.h>

#define S_COLUMNS 8

static const char *const s_headers[S_COLUMNS] = {
    "JOB", "STATE", "METHOD", "DONE/TOTAL", "ACTIVE", "GENERATIONS", "FAILED", "WAITING"};

static const char *
s_text (const char *text)
{
    return text && *text ? text : "-";
}

/* The cells of one job's row, in BUF (each cell a NUL-terminated string). */
static void
s_cells (const toa_job_status_t *job, char cells[S_COLUMNS][256])
{
    snprintf (cells[0], 256, "%s", s_text (job->job));
    snprintf (cells[1], 256, "%s", s_text (job->state));
    snprintf (cells[2], 256, "%s", s_text (job->method));
    snprintf (cells[3], 256, "%lld/%lld", (long long) job->done, (long long) job->total);
    snprintf (cells[4], 256, "%lld", (long long) job->active);
    snprintf (cells[5], 256, "%lld", (long long) job->generations);
    snprintf (cells[6], 256, "%lld", (long long) job->failed);
    snprintf (cells[7], 256, "%s", job->waiting && *job->waiting ? job->waiting : "");
}

static void
s_row (FILE *out, const char *const cells[S_COLUMNS], const int widths[S_COLUMNS])
{
    char line[S_COLUMNS * 260];
    size_t used = 0;
    for (int c = 0; c < S_COLUMNS; c++) {
        bool numeric = c >= 3 && c <= 6;
        int width = c == S_COLUMNS - 1 ? 0 : widths[c];
        used += (size_t) snprintf (line + used, sizeof line - used, numeric ? "%*s  " : "%-*s  ",
                                   width, cells[c]);
    }
    while (used > 0 && line[used - 1] == ' ')
        used--;                          /* no trailing blanks */
    fprintf (out, "%.*s\n", (int) used, line);
}

void
toa_status_write_table (FILE *out, const toa_job_status_t *jobs, size_t n)
{
    if (n == 0) {
        fprintf (out, "no jobs\n");
        return;
    }
    int widths[S_COLUMNS];
    for (int c = 0; c < S_COLUMNS; c++)
        widths[c] = (int) strlen (s_headers[c]);
    char cells[S_COLUMNS][256];
    for (size_t i = 0; i < n; i++) {
        s_cells (&jobs[i], cells);
        for (int c = 0; c < S_COLUMNS; c++)
            if ((int) strlen (cells[c]) > widths[c])
                widths[c] = (int) strlen (cells[c]);
    }
    s_row (out, s_headers, widths);
    for (size_t i = 0; i < n; i++) {
        s_cells (&jobs[i], cells);
        const char *row[S_COLUMNS];
        for (int c = 0; c < S_COLUMNS; c++)
            row[c] = cells[c];
        s_row (out, row, widths);
    }
}

json_t *
toa_status_json (const toa_job_status_t *jobs, size_t n)
{
    json_t *list = json_array ();
    for (size_t i = 0; list && i < n; i++) {
        const toa_job_status_t *job = &jobs[i];
        json_t *item = json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
                                  "job", job->job ? job->job : "",
                                  "state", job->state ? job->state : "",
                                  "method", job->method ? job->method : "",
                                  "total", (json_int_t) job->total,
                                  "done", (json_int_t) job->done,
                                  "fetched", (json_int_t) job->fetched,
                                  "active", (json_int_t) job->active,
                                  "generations", (json_int_t) job->generations,
                                  "failed", (json_int_t) job->failed,
                                  "waiting", job->waiting ? job->waiting : "");
        if (item && job->budget > 0) {
            json_object_set_new (item, "budget", json_integer ((json_int_t) job->budget));
            json_object_set_new (item, "spare", json_integer ((json_int_t) job->spare));
        }
        if (!item || json_array_append_new (list, item) != 0) {
            json_decref (list);
            return NULL;
        }
    }
    return list ? json_pack ("{s:o}", "jobs", list) : NULL;
}

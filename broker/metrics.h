/* metrics.h - a small registry of Prometheus metrics and their text
 * exposition format (version 0.0.4): counters, gauges and histograms, each
 * a *family* (name, help, type, buckets) of *series* told apart by their
 * labels. Pure: no I/O, no clock; the broker decides what to count
 * (broker/observe.c) and serves the text (broker/exporter.c).
 *
 * Families are fixed at creation and named by their index in the table
 * given to toa_metrics_new. A series is created the first time its labels
 * are used. Labels are passed as the text between the braces, already
 * escaped: build it with toa_metrics_labels. */
#ifndef TOA_BROKER_METRICS_H
#define TOA_BROKER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TOA_METRIC_COUNTER = 0,
    TOA_METRIC_GAUGE,
    TOA_METRIC_HISTOGRAM
} toa_metric_type_t;

typedef struct {
    const char *name;                /* toa_generations_total, ..._seconds */
    const char *help;
    toa_metric_type_t type;
    const double *buckets;           /* HISTOGRAM: upper bounds, increasing (no +Inf) */
    size_t n_buckets;
} toa_metric_family_t;

typedef struct toa_metrics_s toa_metrics_t;

/* A registry of the N FAMILIES (borrowed: a static table). NULL when out of
 * memory. */
toa_metrics_t *toa_metrics_new (const toa_metric_family_t *families, size_t n);

/* Frees it; nulls *SELF_P; safe on NULL and twice. */
void toa_metrics_destroy (toa_metrics_t **self_p);

/* Adds VALUE (>= 0 for a counter) to the series LABELS ("" for none) of
 * FAMILY (a counter or a gauge). Returns 0, or -1 (bad family or type, a
 * negative counter step, out of memory). */
int toa_metrics_add (toa_metrics_t *self, int family, const char *labels, double value);

/* Sets the series LABELS of FAMILY (a gauge, or a counter whose value is
 * kept elsewhere) to VALUE. Returns 0 or -1. */
int toa_metrics_set (toa_metrics_t *self, int family, const char *labels, double value);

/* Counts one observation VALUE in the series LABELS of FAMILY (a
 * histogram). Returns 0 or -1. */
int toa_metrics_observe (toa_metrics_t *self, int family, const char *labels, double value);

/* Drops every series of FAMILY (gauges recomputed at each scrape). */
void toa_metrics_reset (toa_metrics_t *self, int family);

/* The value of series LABELS of FAMILY (a histogram: its count); 0 when it
 * does not exist. For tests. */
double toa_metrics_value (const toa_metrics_t *self, int family, const char *labels);

/* The exposition text of every family (# HELP, # TYPE, then its series; a
 * family without series shows its HELP and TYPE only), NUL-terminated, in
 * new memory (free()); its length in *LENGTH when not NULL. NULL when out
 * of memory. */
char *toa_metrics_render (const toa_metrics_t *self, size_t *length);

/* Writes the label text name1="value1",name2="value2" of the NULL-ended
 * list of name, value pairs into OUT (SIZE bytes) (values escaped: backslash,
 * double quote, newline). Returns OUT; a text that does not fit is cut at a
 * pair boundary. */
const char *toa_metrics_labels (char *out, size_t size, ...);

#endif

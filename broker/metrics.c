/* metrics.c - Prometheus metrics registry and text format (see metrics.h). */
#include "broker/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *labels;            /* text between the braces, "" for none */
    double value;            /* counter, gauge; histogram: sum */
    uint64_t count;          /* histogram: observations */
    uint64_t *buckets;       /* histogram: count per bucket (not cumulative) */
} s_series_t;

typedef struct {
    s_series_t *items;
    size_t count, capacity;
} s_family_t;

struct toa_metrics_s {
    const toa_metric_family_t *families;
    size_t n_families;
    s_family_t *series;      /* per family */
};

toa_metrics_t *
toa_metrics_new (const toa_metric_family_t *families, size_t n)
{
    toa_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->families = families;
    self->n_families = n;
    self->series = calloc (n ? n : 1, sizeof *self->series);
    if (!self->series) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_series_free (s_series_t *series)
{
    free (series->labels);
    free (series->buckets);
}

void
toa_metrics_reset (toa_metrics_t *self, int family)
{
    if (!self || family < 0 || (size_t) family >= self->n_families)
        return;
    s_family_t *f = &self->series[family];
    for (size_t i = 0; i < f->count; i++)
        s_series_free (&f->items[i]);
    f->count = 0;
}

void
toa_metrics_destroy (toa_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_metrics_t *self = *self_p;
    for (size_t f = 0; f < self->n_families; f++) {
        toa_metrics_reset (self, (int) f);
        free (self->series[f].items);
    }
    free (self->series);
    free (self);
    *self_p = NULL;
}

/* The series LABELS of FAMILY, created when CREATE; NULL when it does not
 * exist (or out of memory). */
static s_series_t *
s_find (const toa_metrics_t *self, int family, const char *labels, bool create)
{
    if (!self || family < 0 || (size_t) family >= self->n_families)
        return NULL;
    if (!labels)
        labels = "";
    s_family_t *f = &self->series[family];
    for (size_t i = 0; i < f->count; i++)
        if (strcmp (f->items[i].labels, labels) == 0)
            return &f->items[i];
    if (!create)
        return NULL;
    if (f->count == f->capacity) {
        size_t capacity = f->capacity ? f->capacity * 2 : 8;
        s_series_t *items = realloc (f->items, capacity * sizeof *items);
        if (!items)
            return NULL;
        f->items = items;
        f->capacity = capacity;
    }
    s_series_t *series = &f->items[f->count];
    memset (series, 0, sizeof *series);
    series->labels = strdup (labels);
    const toa_metric_family_t *def = &self->families[family];
    if (def->type == TOA_METRIC_HISTOGRAM)
        series->buckets = calloc (def->n_buckets ? def->n_buckets : 1, sizeof *series->buckets);
    if (!series->labels || (def->type == TOA_METRIC_HISTOGRAM && !series->buckets)) {
        s_series_free (series);
        return NULL;
    }
    f->count++;
    return series;
}

static bool
s_is (const toa_metrics_t *self, int family, toa_metric_type_t type)
{
    return self && family >= 0 && (size_t) family < self->n_families
           && self->families[family].type == type;
}

int
toa_metrics_add (toa_metrics_t *self, int family, const char *labels, double value)
{
    if (!(s_is (self, family, TOA_METRIC_COUNTER) && value >= 0)
        && !s_is (self, family, TOA_METRIC_GAUGE))
        return -1;
    s_series_t *series = s_find (self, family, labels, true);
    if (!series)
        return -1;
    series->value += value;
    return 0;
}

int
toa_metrics_set (toa_metrics_t *self, int family, const char *labels, double value)
{
    if (!s_is (self, family, TOA_METRIC_COUNTER) && !s_is (self, family, TOA_METRIC_GAUGE))
        return -1;
    s_series_t *series = s_find (self, family, labels, true);
    if (!series)
        return -1;
    series->value = value;
    return 0;
}

int
toa_metrics_observe (toa_metrics_t *self, int family, const char *labels, double value)
{
    if (!s_is (self, family, TOA_METRIC_HISTOGRAM) || isnan (value))
        return -1;
    s_series_t *series = s_find (self, family, labels, true);
    if (!series)
        return -1;
    const toa_metric_family_t *def = &self->families[family];
    for (size_t b = 0; b < def->n_buckets; b++)
        if (value <= def->buckets[b]) {
            series->buckets[b]++;
            break;
        }
    series->count++;
    series->value += value;
    return 0;
}

double
toa_metrics_value (const toa_metrics_t *self, int family, const char *labels)
{
    const s_series_t *series = s_find (self, family, labels, false);
    if (!series)
        return 0;
    return s_is (self, family, TOA_METRIC_HISTOGRAM) ? (double) series->count : series->value;
}

/* VALUE in the fewest digits that read back the same (0.1, not
 * 0.10000000000000001). */
static const char *
s_shortest (double value, char *buffer, size_t size)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf (buffer, size, "%.*g", digits, value);
        if (strtod (buffer, NULL) == value)
            break;
    }
    return buffer;
}

/* A sample value as Prometheus reads it. */
static void
s_number (FILE *out, double value)
{
    char text[40];
    if (isnan (value))
        fputs ("NaN", out);
    else if (isinf (value))
        fputs (value > 0 ? "+Inf" : "-Inf", out);
    else if (value == floor (value) && fabs (value) < 1e15)
        fprintf (out, "%.0f", value);
    else
        fputs (s_shortest (value, text, sizeof text), out);
}

/* NAME{LABELS,EXTRA} or NAME{EXTRA} or NAME. */
static void
s_sample (FILE *out, const char *name, const char *suffix, const char *labels,
          const char *extra, double value)
{
    fprintf (out, "%s%s", name, suffix);
    bool has_labels = labels && *labels, has_extra = extra && *extra;
    if (has_labels || has_extra)
        fprintf (out, "{%s%s%s}", has_labels ? labels : "", has_labels && has_extra ? "," : "",
                 has_extra ? extra : "");
    fputc (' ', out);
    s_number (out, value);
    fputc ('\n', out);
}

static void
s_render_histogram (FILE *out, const toa_metric_family_t *def, const s_series_t *series)
{
    uint64_t cumulative = 0;
    char le[64], bound[40];
    for (size_t b = 0; b < def->n_buckets; b++) {
        cumulative += series->buckets[b];
        snprintf (le, sizeof le, "le=\"%s\"", s_shortest (def->buckets[b], bound, sizeof bound));
        s_sample (out, def->name, "_bucket", series->labels, le, (double) cumulative);
    }
    s_sample (out, def->name, "_bucket", series->labels, "le=\"+Inf\"", (double) series->count);
    s_sample (out, def->name, "_sum", series->labels, NULL, series->value);
    s_sample (out, def->name, "_count", series->labels, NULL, (double) series->count);
}

char *
toa_metrics_render (const toa_metrics_t *self, size_t *length)
{
    if (!self)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    static const char *const types[] = {"counter", "gauge", "histogram"};
    for (size_t f = 0; f < self->n_families; f++) {
        const toa_metric_family_t *def = &self->families[f];
        fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", def->name, def->help, def->name,
                 types[def->type]);
        const s_family_t *family = &self->series[f];
        for (size_t i = 0; i < family->count; i++) {
            if (def->type == TOA_METRIC_HISTOGRAM)
                s_render_histogram (out, def, &family->items[i]);
            else
                s_sample (out, def->name, "", family->items[i].labels, NULL,
                          family->items[i].value);
        }
    }
    bool failed = ferror (out) != 0;
    if (fclose (out) != 0 || failed) {
        free (text);
        return NULL;
    }
    if (length)
        *length = size;
    return text;
}

const char *
toa_metrics_labels (char *out, size_t size, ...)
{
    if (!out || size == 0)
        return out;
    out[0] = '\0';
    size_t used = 0;
    va_list args;
    va_start (args, size);
    for (const char *name = va_arg (args, const char *); name;
         name = va_arg (args, const char *)) {
        const char *value = va_arg (args, const char *);
        char pair[1200];
        size_t n = (size_t) snprintf (pair, sizeof pair, "%s%s=\"", used ? "," : "", name);
        for (const char *c = value ? value : ""; *c && n + 3 < sizeof pair; c++) {
            if (*c == '\\' || *c == '"')
                pair[n++] = '\\', pair[n++] = *c;
            else if (*c == '\n')
                pair[n++] = '\\', pair[n++] = 'n';
            else
                pair[n++] = *c;
        }
        if (n + 2 > sizeof pair || used + n + 2 > size)
            break;
        pair[n++] = '"';
        memcpy (out + used, pair, n);
        used += n;
        out[used] = '\0';
    }
    va_end (args);
    return out;
}

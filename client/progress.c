/* progress.c - a job's progress: rate over a sliding window, ETA and their
 * text (see progress.h). */
#include "client/progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void
toa_progress_init (toa_progress_t *self, int64_t now_ms, int64_t budget_per_prompt)
{
    memset (self, 0, sizeof *self);
    self->start_ms = now_ms;
    self->budget_per_prompt = budget_per_prompt > 0 ? budget_per_prompt : 0;
}

static const toa_progress_sample_t *
s_sample (const toa_progress_t *self, size_t index)
{
    return &self->samples[(self->first + index) % TOA_PROGRESS_SAMPLES];
}

static void
s_add_sample (toa_progress_t *self, int64_t now_ms)
{
    toa_progress_sample_t sample = {now_ms, self->generations, self->done, self->written};
    if (self->n_samples >= 2) {
        /* keep at most one sample per spacing: a close one replaces the newest */
        const toa_progress_sample_t *before = s_sample (self, self->n_samples - 2);
        if (now_ms - before->t_ms < TOA_PROGRESS_SPACING_MS) {
            self->samples[(self->first + self->n_samples - 1) % TOA_PROGRESS_SAMPLES] = sample;
            return;
        }
    }
    if (self->n_samples == TOA_PROGRESS_SAMPLES) {
        self->first = (self->first + 1) % TOA_PROGRESS_SAMPLES;
        self->n_samples--;
    }
    self->samples[(self->first + self->n_samples) % TOA_PROGRESS_SAMPLES] = sample;
    self->n_samples++;
}

void
toa_progress_update (toa_progress_t *self, const toa_job_status_t *status, int64_t now_ms)
{
    self->have_status = true;
    self->total = status->total;
    self->done = status->done;
    self->active = status->active;
    self->generations = status->generations;
    self->failed = status->failed;
    self->budget = status->budget;
    self->spare = status->spare;
    snprintf (self->job, sizeof self->job, "%s", status->job ? status->job : "");
    snprintf (self->state, sizeof self->state, "%s", status->state ? status->state : "");
    snprintf (self->waiting, sizeof self->waiting, "%s", status->waiting ? status->waiting : "");
    s_add_sample (self, now_ms);
}

void
toa_progress_set_written (toa_progress_t *self, int64_t written)
{
    self->written = written > 0 ? written : 0;
}

/* The oldest sample inside the window and the newest; false when they are
 * less than a second apart. */
static bool
s_window (const toa_progress_t *self, const toa_progress_sample_t **oldest,
          const toa_progress_sample_t **newest)
{
    if (self->n_samples < 2)
        return false;
    *newest = s_sample (self, self->n_samples - 1);
    *oldest = s_sample (self, 0);
    for (size_t i = 0; i + 1 < self->n_samples; i++) {
        const toa_progress_sample_t *sample = s_sample (self, i);
        if ((*newest)->t_ms - sample->t_ms <= TOA_PROGRESS_WINDOW_MS) {
            *oldest = sample;
            break;
        }
    }
    /* a window with too little time in it says nothing: widen to the oldest */
    if ((*newest)->t_ms - (*oldest)->t_ms < 1000)
        *oldest = s_sample (self, 0);
    return (*newest)->t_ms - (*oldest)->t_ms >= 1000;
}

double
toa_progress_rate (const toa_progress_t *self)
{
    const toa_progress_sample_t *oldest, *newest;
    if (!s_window (self, &oldest, &newest))
        return 0;
    double seconds = (double) (newest->t_ms - oldest->t_ms) / 1000.0;
    double rate = (double) (newest->generations - oldest->generations) / seconds;
    return rate > 0 ? rate : 0;
}

/* Seconds until every prompt is searched (0 when they are), or -1. */
static double
s_search_eta (const toa_progress_t *self)
{
    if (self->total > 0 && self->done >= self->total)
        return 0;
    double rate = toa_progress_rate (self);
    if (self->budget_per_prompt > 0 && rate > 0) {
        double remaining = (double) self->total * (double) self->budget_per_prompt
                           - (double) self->generations;
        if (remaining > 0)
            return remaining / rate;
    }
    const toa_progress_sample_t *oldest, *newest;
    if (!s_window (self, &oldest, &newest) || newest->done <= oldest->done)
        return -1;
    double seconds = (double) (newest->t_ms - oldest->t_ms) / 1000.0;
    double prompt_rate = (double) (newest->done - oldest->done) / seconds;
    return (double) (self->total - self->done) / prompt_rate;
}

/* Seconds until every result is written at the rate they are, or -1. */
static double
s_write_eta (const toa_progress_t *self)
{
    const toa_progress_sample_t *oldest, *newest;
    if (!s_window (self, &oldest, &newest) || newest->written <= oldest->written)
        return -1;
    double seconds = (double) (newest->t_ms - oldest->t_ms) / 1000.0;
    double rate = (double) (newest->written - oldest->written) / seconds;
    return (double) (self->total - self->written) / rate;
}

double
toa_progress_eta (const toa_progress_t *self)
{
    if (!self->have_status)
        return -1;
    if (strcmp (self->state, "done") == 0 || (self->total > 0 && self->written >= self->total))
        return 0;
    double search = s_search_eta (self), write = s_write_eta (self);
    if (search == 0)
        return write;
    if (search < 0)
        return -1;
    return write > search ? write : search;
}

char *
toa_progress_duration (double seconds, char *buf, size_t size)
{
    if (seconds < 0 || !isfinite (seconds)) {
        snprintf (buf, size, "?");
        return buf;
    }
    long long s = (long long) llround (seconds);
    if (s < 60)
        snprintf (buf, size, "%llds", s);
    else if (s < 3600)
        snprintf (buf, size, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf (buf, size, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf (buf, size, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
    return buf;
}

/* "34.5" for rates under 100, "345" above. */
static void
s_rate_text (double rate, char *buf, size_t size)
{
    if (rate < 100)
        snprintf (buf, size, "%.1f", rate);
    else
        snprintf (buf, size, "%.0f", rate);
}

char *
toa_progress_bar (const toa_progress_t *self, int width, char *buf, size_t size)
{
    char rate[32], eta[32], core[256];
    s_rate_text (toa_progress_rate (self), rate, sizeof rate);
    toa_progress_duration (toa_progress_eta (self), eta, sizeof eta);
    snprintf (core, sizeof core, " %lld/%lld written  %lld searched  %s gen/s  ETA %s",
              (long long) self->written, (long long) self->total, (long long) self->done, rate,
              eta);
    int limit = width > 1 ? width - 1 : 0;
    /* the bar gives way to the numbers, and leaves room for a waiting reason */
    int bar = limit - (int) strlen (core) - 2 - (self->waiting[0] ? 24 : 0);
    if (bar > 30)
        bar = 30;
    if (bar < 10 && limit - (int) strlen (core) - 2 >= 10)
        bar = 10;
    size_t used = 0;
    if (bar >= 10 && size > (size_t) bar + 3) {
        int filled = self->total > 0 ? (int) ((double) bar * (double) self->written
                                              / (double) self->total) : 0;
        if (filled > bar)
            filled = bar;
        buf[used++] = '[';
        for (int i = 0; i < bar; i++)
            buf[used++] = i < filled ? '#' : (i == filled ? '>' : ' ');
        buf[used++] = ']';
    }
    snprintf (buf + used, size - used, "%s%s%s", used ? core : core + 1,
              self->waiting[0] ? "  waiting: " : "", self->waiting);
    if (limit > 0 && strlen (buf) > (size_t) limit)
        buf[limit] = '\0';
    return buf;
}

char *
toa_progress_plain (const toa_progress_t *self, int64_t now_ms, char *buf, size_t size)
{
    char rate[32], eta[32], elapsed[32];
    double seconds = (double) (now_ms - self->start_ms) / 1000.0;
    double window_rate = toa_progress_rate (self);
    /* A job shorter than the rate window still has an average rate: the
     * generations since the first status seen, over the time since then. */
    if (window_rate == 0 && self->n_samples > 0) {
        const toa_progress_sample_t *first = s_sample (self, 0);
        double span = (double) (now_ms - first->t_ms) / 1000.0;
        if (span > 0.1 && self->generations > first->generations)
            window_rate = (double) (self->generations - first->generations) / span;
    }
    s_rate_text (window_rate, rate, sizeof rate);
    toa_progress_duration (toa_progress_eta (self), eta, sizeof eta);
    toa_progress_duration (seconds, elapsed, sizeof elapsed);
    int percent = self->total > 0 ? (int) (100 * self->written / self->total) : 0;
    snprintf (buf, size,
              "%lld/%lld results written (%d%%), %lld prompts searched, %lld generations, "
              "%lld failed, %s gen/s, ETA %s, elapsed %s%s%s",
              (long long) self->written, (long long) self->total, percent,
              (long long) self->done, (long long) self->generations, (long long) self->failed, rate, eta, elapsed,
              self->waiting[0] ? ", waiting: " : "", self->waiting);
    return buf;
}

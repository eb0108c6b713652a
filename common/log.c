/* log.c - leveled logging for every toa program (see log.h). */
#include "common/log.h"
#include "common/redact.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char s_name[64] = "toa";
static toa_log_level_t s_level = TOA_LOG_INFO;
static int s_level_from_env_checked = 0;
static FILE *s_stream = NULL;

static const char *s_level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void
toa_log_set_name (const char *name)
{
    snprintf (s_name, sizeof s_name, "%s", name ? name : "toa");
}

void
toa_log_set_level (toa_log_level_t level)
{
    s_level = level;
    s_level_from_env_checked = 1;
}

int
toa_log_parse_level (const char *text, toa_log_level_t *level)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (text && strcasecmp (text, names[i]) == 0) {
            *level = (toa_log_level_t) i;
            return 0;
        }
    return -1;
}

void
toa_log_vline (char *out, size_t size, const char *fmt, va_list args)
{
    if (size == 0)
        return;
    vsnprintf (out, size, fmt, args);
    size_t length = strlen (out);
    while (length > 0 && out[length - 1] == '\n')
        out[--length] = '\0';
}

int
toa_log_set_file (const char *path)
{
    FILE *stream = fopen (path, "a");
    if (!stream)
        return -1;
    setvbuf (stream, NULL, _IOLBF, 0);
    if (s_stream && s_stream != stderr)
        fclose (s_stream);
    s_stream = stream;
    return 0;
}

static void
s_check_env_level (void)
{
    if (s_level_from_env_checked)
        return;
    s_level_from_env_checked = 1;
    toa_log_level_t level;
    if (toa_log_parse_level (getenv ("TOA_LOG_LEVEL"), &level) == 0)
        s_level = level;
}

void
toa_log (toa_log_level_t level, const char *fmt, ...)
{
    s_check_env_level ();
    if (level > s_level)
        return;
    struct timeval now;
    gettimeofday (&now, NULL);
    struct tm utc;
    gmtime_r (&now.tv_sec, &utc);
    char stamp[32];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);

    char message[2048];
    va_list args;
    va_start (args, fmt);
    vsnprintf (message, sizeof message, fmt, args);
    va_end (args);
    toa_redact_scrub (message);   /* no secret reaches a log, whoever passed it */

    FILE *stream = s_stream ? s_stream : stderr;
    fprintf (stream, "%s.%03dZ %s[%d] %s %s\n", stamp, (int) (now.tv_usec / 1000),
             s_name, (int) getpid (), s_level_names[level], message);
}

bool
toa_log_limit_pass (toa_log_limit_t *self, int64_t now, int64_t every_ms, uint64_t *dropped)
{
    if (now < self->next_ms) {
        self->dropped++;
        return false;
    }
    self->next_ms = now + every_ms;
    *dropped = self->dropped;
    self->dropped = 0;
    return true;
}

void
toa_log_limit_note (char *out, size_t size, uint64_t dropped, const char *what)
{
    if (dropped)
        snprintf (out, size, " (and %llu %s not logged since the last)",
                  (unsigned long long) dropped, what);
    else if (size)
        out[0] = '\0';
}

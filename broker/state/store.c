/* store.c - Redis key layout, pipelined writes and reads (see store.h). */
#include "broker/state/store.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"

#define S_CONNECT_TIMEOUT_MS 2000
#define S_COMMAND_TIMEOUT_MS 10000
#define S_CHUNK 1000         /* fields per HSET/HDEL when writing many */

/* HINCRBY deltas gathered in a loop pass and written once at the flush:
 * one command per job and field instead of one per result. */
typedef struct {
    char job[80];
    char field[24];
    int64_t delta;
} s_increment_t;

struct toa_store_s {
    char *host;
    int port;
    int db;
    char *password;
    redisContext *redis;
    size_t pending;          /* commands appended, replies not read */
    bool failed;             /* a queued command could not be appended */
    uint64_t round_trips;
    s_increment_t *increments;
    size_t n_increments, cap_increments;
    toa_store_observe_fn *observe; /* round-trip durations, for the metrics */
    void *observe_arg;
    char error[256];
};

/* --- keys ------------------------------------------------------------------ */

/* Appends TEXT at *AT within OUT (SIZE bytes, NUL kept); cut when full. */
static void
s_put (char *out, size_t size, size_t *at, const char *text, size_t length)
{
    if (*at + length >= size)
        length = *at + 1 < size ? size - 1 - *at : 0;
    memcpy (out + *at, text, length);
    *at += length;
    out[*at] = '\0';
}

/* Key names are built on every write of the hot path: concatenation, not
 * snprintf. */
static void
s_key_job (char *out, size_t size, const char *job, const char *suffix)
{
    size_t at = 0;
    s_put (out, size, &at, "toa:job:{", 9);
    s_put (out, size, &at, job, strlen (job));
    s_put (out, size, &at, "}", 1);
    s_put (out, size, &at, suffix, strlen (suffix));
}

static void
s_key_prompt (char *out, size_t size, const char *job, int64_t index)
{
    char number[24];
    size_t at = 0, digits = toa_format_int64 (number, index);
    s_put (out, size, &at, "toa:prompt:{", 12);
    s_put (out, size, &at, job, strlen (job));
    s_put (out, size, &at, "/", 1);
    s_put (out, size, &at, number, digits);
    s_put (out, size, &at, "}", 1);
}

#define S_KEY 160

/* --- a command under construction ------------------------------------------ */

/* A command in Redis' wire form (RESP), built in place: arguments are
 * copied as they come, the "*<argc>" header is written into the room kept
 * in front once the count is known, and the whole goes to hiredis with
 * redisAppendFormattedCommand. Small commands stay on the stack. */
#define S_HEAD 24            /* room for "*<argc>\r\n" */

typedef struct {
    char *data;              /* local, or the heap once it grows */
    size_t length, capacity;
    int argc;
    bool nomem, heap;
    char local[512];
} s_cmd_t;

static bool
s_cmd_room (s_cmd_t *cmd, size_t n)
{
    if (cmd->nomem)
        return false;
    if (!cmd->data) {
        cmd->data = cmd->local;
        cmd->capacity = sizeof cmd->local;
        cmd->length = S_HEAD;
    }
    if (cmd->length + n <= cmd->capacity)
        return true;
    size_t capacity = cmd->capacity * 2;
    while (capacity < cmd->length + n)
        capacity *= 2;
    char *data = cmd->heap ? realloc (cmd->data, capacity) : malloc (capacity);
    if (!data) {
        cmd->nomem = true;
        return false;
    }
    if (!cmd->heap)
        memcpy (data, cmd->local, cmd->length);
    cmd->data = data;
    cmd->capacity = capacity;
    cmd->heap = true;
    return true;
}

static void
s_cmd_arg (s_cmd_t *cmd, const char *arg, size_t length)
{
    if (!s_cmd_room (cmd, length + 32))
        return;
    char *out = cmd->data + cmd->length;
    *out++ = '$';
    out += toa_format_int64 (out, (int64_t) length);
    *out++ = '\r';
    *out++ = '\n';
    memcpy (out, arg, length);
    out += length;
    *out++ = '\r';
    *out++ = '\n';
    cmd->length = (size_t) (out - cmd->data);
    cmd->argc++;
}

static void
s_cmd_str (s_cmd_t *cmd, const char *arg)
{
    s_cmd_arg (cmd, arg ? arg : "", arg ? strlen (arg) : 0);
}

/* PREFIX followed by the decimal VALUE, as one argument ("g:12", "7"). */
static void
s_cmd_int (s_cmd_t *cmd, const char *prefix, int64_t value)
{
    char text[64];
    size_t length = strlen (prefix);
    memcpy (text, prefix, length);
    length += toa_format_int64 (text + length, value);
    s_cmd_arg (cmd, text, length);
}

static void
s_cmd_free (s_cmd_t *cmd)
{
    if (cmd->heap)
        free (cmd->data);
    cmd->data = NULL;
    cmd->length = cmd->capacity = 0;
    cmd->argc = 0;
    cmd->nomem = cmd->heap = false;
}

/* Queues CMD (then empties it for the next command). */
static void
s_append (toa_store_t *self, s_cmd_t *cmd)
{
    char head[S_HEAD];
    size_t length = 0;
    head[length++] = '*';
    length += toa_format_int64 (head + length, cmd->argc);
    head[length++] = '\r';
    head[length++] = '\n';
    if (cmd->data && !cmd->nomem)
        memcpy (cmd->data + S_HEAD - length, head, length);
    if (!self->redis || cmd->nomem || !cmd->data
        || redisAppendFormattedCommand (self->redis, cmd->data + S_HEAD - length,
                                        cmd->length - S_HEAD + length) != REDIS_OK) {
        if (!self->failed)
            snprintf (self->error, sizeof self->error, "%s",
                      cmd->nomem ? "out of memory" : "not connected");
        self->failed = true;
    }
    else
        self->pending++;
    s_cmd_free (cmd);
}

/* Queues a command of fixed string arguments, NULL-terminated. */
static void
s_simple (toa_store_t *self, const char *first, ...)
{
    s_cmd_t cmd = {0};
    va_list args;
    va_start (args, first);
    for (const char *arg = first; arg; arg = va_arg (args, const char *))
        s_cmd_str (&cmd, arg);
    va_end (args);
    s_append (self, &cmd);
}

/* --- connection ------------------------------------------------------------ */

static int
s_parse_url (toa_store_t *self, const char *url, char *err, size_t err_size)
{
    const char *rest = url;
    if (strncmp (rest, "redis://", 8) == 0)
        rest += 8;
    else if (strstr (rest, "://")) {
        snprintf (err, err_size, "redis url: only redis:// is supported");
        return -1;
    }
    const char *at = strchr (rest, '@');
    if (at)
        rest = at + 1;       /* credentials in the URL are ignored: use password_env */
    size_t host_length = strcspn (rest, ":/");
    self->host = host_length ? strndup (rest, host_length) : strdup ("127.0.0.1");
    self->port = 6379;
    rest += host_length;
    if (*rest == ':') {
        char *end;
        long port = strtol (rest + 1, &end, 10);
        if (end == rest + 1 || port < 1 || port > 65535) {
            snprintf (err, err_size, "redis url: bad port");
            return -1;
        }
        self->port = (int) port;
        rest = end;
    }
    if (*rest == '/' && rest[1]) {
        char *end;
        long db = strtol (rest + 1, &end, 10);
        if (end == rest + 1 || *end || db < 0 || db > 1000000) {
            snprintf (err, err_size, "redis url: bad database number");
            return -1;
        }
        self->db = (int) db;
    }
    else if (*rest && strcmp (rest, "/") != 0) {
        snprintf (err, err_size, "redis url: unexpected text after the host");
        return -1;
    }
    return self->host ? 0 : -1;
}

toa_store_t *
toa_store_new (const char *url, const char *password, char *err, size_t err_size)
{
    toa_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->password = toa_strdup (password);
    if (s_parse_url (self, url ? url : "redis://127.0.0.1:6379/0", err, err_size) != 0)
        toa_store_destroy (&self);
    return self;
}

static void
s_disconnect (toa_store_t *self)
{
    if (self->redis)
        redisFree (self->redis);
    self->redis = NULL;
    self->pending = 0;
    self->failed = false;
    self->n_increments = 0;  /* queued writes of a broken connection are lost */
}

void
toa_store_destroy (toa_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_store_t *self = *self_p;
    s_disconnect (self);
    free (self->increments);
    free (self->host);
    if (self->password) {
        memset (self->password, 0, strlen (self->password));
        free (self->password);
    }
    free (self);
    *self_p = NULL;
}

/* Runs one command synchronously; returns the reply or NULL (error set). */
static redisReply *
s_command (toa_store_t *self, const char *what, int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv (self->redis, argc, argv, NULL);
    if (!reply) {
        snprintf (self->error, sizeof self->error, "%s: %s", what, self->redis->errstr);
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        /* AUTH errors may echo nothing secret, but keep only the first word. */
        snprintf (self->error, sizeof self->error, "%s: %.*s", what,
                  (int) strcspn (reply->str, " "), reply->str);
        freeReplyObject (reply);
        return NULL;
    }
    return reply;
}

int
toa_store_connect (toa_store_t *self)
{
    s_disconnect (self);
    struct timeval connect_timeout = {S_CONNECT_TIMEOUT_MS / 1000,
                                      (S_CONNECT_TIMEOUT_MS % 1000) * 1000};
    self->redis = redisConnectWithTimeout (self->host, self->port, connect_timeout);
    if (!self->redis || self->redis->err) {
        snprintf (self->error, sizeof self->error, "connect %s:%d: %s", self->host,
                  self->port, self->redis ? self->redis->errstr : "out of memory");
        s_disconnect (self);
        return -1;
    }
    struct timeval timeout = {S_COMMAND_TIMEOUT_MS / 1000, (S_COMMAND_TIMEOUT_MS % 1000) * 1000};
    redisSetTimeout (self->redis, timeout);
    redisReply *reply = NULL;
    if (self->password && *self->password) {
        const char *argv[] = {"AUTH", self->password};
        if (!(reply = s_command (self, "AUTH", 2, argv))) {
            s_disconnect (self);
            return -1;
        }
        freeReplyObject (reply);
    }
    char db[16];
    snprintf (db, sizeof db, "%d", self->db);
    const char *select[] = {"SELECT", db};
    if (!(reply = s_command (self, "SELECT", 2, select))) {
        s_disconnect (self);
        return -1;
    }
    freeReplyObject (reply);
    self->error[0] = '\0';
    return 0;
}

bool
toa_store_connected (const toa_store_t *self)
{
    return self->redis != NULL && !self->failed;
}

const char *
toa_store_error (const toa_store_t *self)
{
    return self->error;
}

size_t
toa_store_pending (const toa_store_t *self)
{
    return self->pending + self->n_increments;
}

uint64_t
toa_store_round_trips (const toa_store_t *self)
{
    return self->round_trips;
}

void
toa_store_set_observer (toa_store_t *self, toa_store_observe_fn *fn, void *arg)
{
    self->observe = fn;
    self->observe_arg = arg;
}

static double
s_seconds (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

/* True when REPLY (or an EXEC element in it) is an error; fills the reason. */
static bool
s_reply_failed (toa_store_t *self, const redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf (self->error, sizeof self->error, "redis: %s", reply->str);
        return true;
    }
    if (reply->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < reply->elements; i++)
            if (reply->element[i]->type == REDIS_REPLY_ERROR) {
                snprintf (self->error, sizeof self->error, "redis: %s",
                          reply->element[i]->str);
                return true;
            }
    return false;
}

/* Reads N replies: each to REPLIES[i] when REPLIES is not NULL (caller frees),
 * else checked and freed. Returns 0 or -1 (store disconnected). */
static int
s_read (toa_store_t *self, size_t n, redisReply **replies)
{
    int rc = 0;
    double started = self->observe ? s_seconds () : 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = NULL;
        if (redisGetReply (self->redis, (void **) &reply) != REDIS_OK || !reply) {
            snprintf (self->error, sizeof self->error, "redis %s:%d: %s", self->host,
                      self->port, self->redis->errstr[0] ? self->redis->errstr : "no reply");
            for (size_t j = 0; replies && j < i; j++)
                freeReplyObject (replies[j]);
            s_disconnect (self);
            if (self->observe)
                self->observe (self->observe_arg, s_seconds () - started, false);
            return -1;
        }
        if (s_reply_failed (self, reply))
            rc = -1;
        if (replies)
            replies[i] = reply;
        else
            freeReplyObject (reply);
    }
    self->pending = 0;
    self->round_trips++;
    if (self->observe)
        self->observe (self->observe_arg, s_seconds () - started, rc == 0);
    if (rc != 0) {
        for (size_t j = 0; replies && j < n; j++)
            freeReplyObject (replies[j]);
        s_disconnect (self);
    }
    return rc;
}

static void s_simple (toa_store_t *self, const char *first, ...);

/* Queues the gathered HINCRBYs (before a read, a delete, or the flush). */
static void
s_increments_queue (toa_store_t *self)
{
    for (size_t i = 0; i < self->n_increments; i++) {
        char key[S_KEY], number[32];
        s_key_job (key, sizeof key, self->increments[i].job, "");
        number[toa_format_int64 (number, self->increments[i].delta)] = '\0';
        s_simple (self, "HINCRBY", key, self->increments[i].field, number, NULL);
    }
    self->n_increments = 0;
}

int
toa_store_flush (toa_store_t *self)
{
    s_increments_queue (self);
    if (!self->redis || self->failed) {
        if (!self->error[0])
            snprintf (self->error, sizeof self->error, "not connected");
        s_disconnect (self);
        return -1;
    }
    if (self->pending == 0)
        return 0;
    return s_read (self, self->pending, NULL);
}

/* --- writes ---------------------------------------------------------------- */

/* Queues the new job hash of JOB: STATE, TOTAL prompts, counters at 0. */
static void
s_job_hash (toa_store_t *self, const char *job, const char *method, const char *settings,
            const char *state, int64_t total, int64_t created_ms)
{
    char key[S_KEY];
    s_key_job (key, sizeof key, job, "");
    s_cmd_t cmd = {0};
    s_cmd_str (&cmd, "HSET");
    s_cmd_str (&cmd, key);
    s_cmd_str (&cmd, "method");
    s_cmd_str (&cmd, method);
    s_cmd_str (&cmd, "settings");
    s_cmd_str (&cmd, settings);
    s_cmd_str (&cmd, "state");
    s_cmd_str (&cmd, state);
    s_cmd_str (&cmd, "total");
    s_cmd_int (&cmd, "", total);
    s_cmd_str (&cmd, "created_ms");
    s_cmd_int (&cmd, "", created_ms);
    const char *zero_fields[] = {"admitted", "done", "next_seq", "acked", "generations",
                                 "failed"};
    for (size_t i = 0; i < sizeof zero_fields / sizeof *zero_fields; i++) {
        s_cmd_str (&cmd, zero_fields[i]);
        s_cmd_str (&cmd, "0");
    }
    s_append (self, &cmd);
}

void
toa_store_job_create (toa_store_t *self, const char *job, const char *method,
                      const char *settings, int64_t created_ms, const char *const *lines,
                      size_t n)
{
    char prompts[S_KEY];
    s_key_job (prompts, sizeof prompts, job, ":prompts");
    s_simple (self, "MULTI", NULL);
    s_job_hash (self, job, method, settings, "running", (int64_t) n, created_ms);
    s_cmd_t cmd = {0};
    for (size_t first = 0; first < n; first += S_CHUNK) {
        s_cmd_str (&cmd, "HSET");
        s_cmd_str (&cmd, prompts);
        for (size_t i = first; i < n && i < first + S_CHUNK; i++) {
            s_cmd_int (&cmd, "", (int64_t) i);
            s_cmd_str (&cmd, lines[i]);
        }
        s_append (self, &cmd);
    }
    s_simple (self, "SADD", "toa:jobs", job, NULL);
    s_simple (self, "EXEC", NULL);
}

void
toa_store_job_set (toa_store_t *self, const char *job, const char *field, int64_t value)
{
    char key[S_KEY], number[32];
    s_key_job (key, sizeof key, job, "");
    snprintf (number, sizeof number, "%" PRId64, value);
    s_simple (self, "HSET", key, field, number, NULL);
}

void
toa_store_job_state (toa_store_t *self, const char *job, const char *state)
{
    char key[S_KEY];
    s_key_job (key, sizeof key, job, "");
    s_simple (self, "HSET", key, "state", state, NULL);
}

void
toa_store_job_owner (toa_store_t *self, const char *job, const char *owner)
{
    if (!owner || !*owner)
        return;
    char key[S_KEY];
    s_key_job (key, sizeof key, job, "");
    s_simple (self, "HSET", key, "owner", owner, NULL);
}

/* Room for one more gathered increment; -1 when out of memory. */
static int
s_increments_room (toa_store_t *self)
{
    if (self->n_increments < self->cap_increments)
        return 0;
    size_t capacity = self->cap_increments ? self->cap_increments * 2 : 8;
    s_increment_t *grown = realloc (self->increments, capacity * sizeof *grown);
    if (!grown)
        return -1;
    self->increments = grown;
    self->cap_increments = capacity;
    return 0;
}

void
toa_store_job_add (toa_store_t *self, const char *job, const char *field, int64_t delta)
{
    for (size_t i = 0; i < self->n_increments; i++) {
        s_increment_t *increment = &self->increments[i];
        if (strcmp (increment->field, field) == 0 && strcmp (increment->job, job) == 0) {
            increment->delta += delta;
            return;
        }
    }
    if (strlen (job) >= sizeof self->increments->job
        || strlen (field) >= sizeof self->increments->field || s_increments_room (self) != 0) {
        char key[S_KEY], number[32];
        s_key_job (key, sizeof key, job, "");
        number[toa_format_int64 (number, delta)] = '\0';
        s_simple (self, "HINCRBY", key, field, number, NULL);
        return;
    }
    s_increment_t *increment = &self->increments[self->n_increments++];
    snprintf (increment->job, sizeof increment->job, "%s", job);
    snprintf (increment->field, sizeof increment->field, "%s", field);
    increment->delta = delta;
}

void
toa_store_admit (toa_store_t *self, const char *job, int64_t index, int64_t admitted)
{
    char key[S_KEY], active[S_KEY], number[32], count[32];
    s_key_job (key, sizeof key, job, "");
    s_key_job (active, sizeof active, job, ":active");
    snprintf (number, sizeof number, "%" PRId64, index);
    snprintf (count, sizeof count, "%" PRId64, admitted);
    s_simple (self, "MULTI", NULL);
    s_simple (self, "SADD", active, number, NULL);
    s_simple (self, "HSET", key, "admitted", count, NULL);
    s_simple (self, "EXEC", NULL);
}

void
toa_store_records (toa_store_t *self, const char *job, int64_t index, int64_t n,
                   const int *g, const bool *settle, char *const *texts, size_t count)
{
    char key[S_KEY];
    s_key_prompt (key, sizeof key, job, index);
    s_cmd_t cmd = {0};
    s_cmd_str (&cmd, "HSET");
    s_cmd_str (&cmd, key);
    s_cmd_str (&cmd, "n");
    s_cmd_int (&cmd, "", n);
    for (size_t i = 0; i < count; i++) {
        s_cmd_int (&cmd, settle && settle[i] ? "s:" : "g:", g[i]);
        s_cmd_str (&cmd, texts[i]);
    }
    s_append (self, &cmd);
}

void
toa_store_records_reset (toa_store_t *self, const char *job, int64_t index)
{
    char key[S_KEY];
    s_key_prompt (key, sizeof key, job, index);
    s_simple (self, "DEL", key, NULL);
}

void
toa_store_finish (toa_store_t *self, const char *job, int64_t index, int64_t seq,
                  const char *result, int64_t done, int64_t spare)
{
    char key[S_KEY], results[S_KEY], active[S_KEY], prompts[S_KEY], prompt[S_KEY];
    char seq_text[32], next_text[32], done_text[32], index_text[32];
    s_key_job (key, sizeof key, job, "");
    s_key_job (results, sizeof results, job, ":results");
    s_key_job (active, sizeof active, job, ":active");
    s_key_job (prompts, sizeof prompts, job, ":prompts");
    s_key_prompt (prompt, sizeof prompt, job, index);
    snprintf (seq_text, sizeof seq_text, "%" PRId64, seq);
    snprintf (next_text, sizeof next_text, "%" PRId64, seq + 1);
    snprintf (done_text, sizeof done_text, "%" PRId64, done);
    snprintf (index_text, sizeof index_text, "%" PRId64, index);
    s_simple (self, "MULTI", NULL);
    s_simple (self, "HSET", results, seq_text, result, NULL);
    s_simple (self, "HSET", key, "done", done_text, "next_seq", next_text, NULL);
    s_simple (self, "SREM", active, index_text, NULL);
    s_simple (self, "DEL", prompt, NULL);
    s_simple (self, "HDEL", prompts, index_text, NULL);
    if (spare != 0) {
        char spare_text[32];
        snprintf (spare_text, sizeof spare_text, "%" PRId64, spare);
        s_simple (self, "HINCRBY", key, "spare", spare_text, NULL);
    }
    s_simple (self, "EXEC", NULL);
}

void
toa_store_grant (toa_store_t *self, const char *job, int64_t index, int64_t extra,
                 int64_t allowance)
{
    char key[S_KEY], prompt[S_KEY], delta[32], total[32];
    s_key_job (key, sizeof key, job, "");
    s_key_prompt (prompt, sizeof prompt, job, index);
    snprintf (delta, sizeof delta, "%" PRId64, -extra);
    snprintf (total, sizeof total, "%" PRId64, allowance);
    s_simple (self, "MULTI", NULL);
    s_simple (self, "HINCRBY", key, "spare", delta, NULL);
    s_simple (self, "HSET", prompt, "allowance", total, NULL);
    s_simple (self, "EXEC", NULL);
}

void
toa_store_acked (toa_store_t *self, const char *job, int64_t from, int64_t to)
{
    char key[S_KEY], results[S_KEY];
    s_key_job (key, sizeof key, job, "");
    s_key_job (results, sizeof results, job, ":results");
    for (int64_t first = from; first < to; first += S_CHUNK) {
        s_cmd_t cmd = {0};
        s_cmd_str (&cmd, "HDEL");
        s_cmd_str (&cmd, results);
        for (int64_t seq = first; seq < to && seq < first + S_CHUNK; seq++)
            s_cmd_int (&cmd, "", seq);
        s_append (self, &cmd);
    }
    toa_store_job_set (self, job, "acked", to);
}

void
toa_store_job_delete (toa_store_t *self, const char *job, const int64_t *active, size_t n)
{
    s_increments_queue (self);
    char key[S_KEY], prompts[S_KEY], active_key[S_KEY], results[S_KEY], ids_key[S_KEY];
    s_key_job (key, sizeof key, job, "");
    s_key_job (prompts, sizeof prompts, job, ":prompts");
    s_key_job (active_key, sizeof active_key, job, ":active");
    s_key_job (results, sizeof results, job, ":results");
    s_key_job (ids_key, sizeof ids_key, job, ":ids");
    s_simple (self, "MULTI", NULL);
    for (size_t first = 0; first < n; first += S_CHUNK) {
        s_cmd_t cmd = {0};
        s_cmd_str (&cmd, "DEL");
        for (size_t i = first; i < n && i < first + S_CHUNK; i++) {
            char key[S_KEY];
            s_key_prompt (key, sizeof key, job, active[i]);
            s_cmd_str (&cmd, key);
        }
        s_append (self, &cmd);
    }
    s_simple (self, "DEL", key, prompts, active_key, results, ids_key, NULL);
    s_simple (self, "SREM", "toa:jobs", job, NULL);
    s_simple (self, "EXEC", NULL);
}

void
toa_store_submit_begin (toa_store_t *self, const char *job, const char *method,
                        const char *settings, int64_t created_ms)
{
    s_simple (self, "MULTI", NULL);
    s_job_hash (self, job, method, settings, "loading", 0, created_ms);
    s_simple (self, "SADD", "toa:jobs", job, NULL);
    s_simple (self, "EXEC", NULL);
}

static int s_round_trip (toa_store_t *self, size_t n, redisReply **replies);

/* DUP_OF[i] = the line stored for IDS[i] where the HSETNX of REPLIES said
 * the id was there already (a second round trip, only for duplicates). */
static int
s_duplicate_lines (toa_store_t *self, const char *ids_key, const char *const *ids,
                   redisReply **replies, size_t n, int64_t *dup_of)
{
    size_t asked = 0;
    for (size_t i = 0; i < n; i++)
        if (replies[i]->type == REDIS_REPLY_INTEGER && replies[i]->integer == 0) {
            s_simple (self, "HGET", ids_key, ids[i], NULL);
            asked++;
        }
    if (asked == 0)
        return 0;
    redisReply **lines = calloc (asked, sizeof *lines);
    if (!lines || s_round_trip (self, asked, lines) != 0) {
        free (lines);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (replies[i]->type == REDIS_REPLY_INTEGER && replies[i]->integer == 0) {
            dup_of[i] = lines[k]->type == REDIS_REPLY_STRING ? strtoll (lines[k]->str, NULL, 10)
                                                              : -1;
            freeReplyObject (lines[k++]);
        }
    free (lines);
    return 0;
}

int
toa_store_submit_chunk (toa_store_t *self, const char *job, int64_t first,
                        const char *const *lines, const char *const *ids,
                        const int64_t *line_nos, size_t n, bool store_lines, int64_t *dup_of)
{
    char prompts[S_KEY], ids_key[S_KEY];
    s_key_job (prompts, sizeof prompts, job, ":prompts");
    s_key_job (ids_key, sizeof ids_key, job, ":ids");
    size_t queued = 0;
    if (store_lines && n > 0) {
        s_cmd_t cmd = {0};
        s_cmd_str (&cmd, "HSET");
        s_cmd_str (&cmd, prompts);
        for (size_t i = 0; i < n; i++) {
            s_cmd_int (&cmd, "", first + (int64_t) i);
            s_cmd_str (&cmd, lines[i]);
        }
        s_append (self, &cmd);
        queued++;
    }
    for (size_t i = 0; i < n; i++) {
        s_cmd_t cmd = {0};
        s_cmd_str (&cmd, "HSETNX");
        s_cmd_str (&cmd, ids_key);
        s_cmd_str (&cmd, ids[i]);
        s_cmd_int (&cmd, "", line_nos[i]);
        s_append (self, &cmd);
        queued++;
    }
    for (size_t i = 0; i < n; i++)
        dup_of[i] = 0;
    if (queued == 0)
        return 0;
    redisReply **replies = calloc (queued, sizeof *replies);
    if (!replies || s_round_trip (self, queued, replies) != 0) {
        free (replies);
        return -1;
    }
    size_t skip = queued - n;
    int rc = s_duplicate_lines (self, ids_key, ids, replies + skip, n, dup_of);
    for (size_t i = 0; i < queued; i++)
        freeReplyObject (replies[i]);
    free (replies);
    return rc;
}

void
toa_store_submit_commit (toa_store_t *self, const char *job, int64_t total)
{
    char key[S_KEY], ids_key[S_KEY], total_text[32];
    s_key_job (key, sizeof key, job, "");
    s_key_job (ids_key, sizeof ids_key, job, ":ids");
    snprintf (total_text, sizeof total_text, "%" PRId64, total);
    s_simple (self, "MULTI", NULL);
    s_simple (self, "HSET", key, "state", "running", "total", total_text, NULL);
    s_simple (self, "DEL", ids_key, NULL);
    s_simple (self, "EXEC", NULL);
}

void
toa_store_job_retire (toa_store_t *self, const char *job, int64_t keep_s)
{
    char key[S_KEY], prompts[S_KEY], active_key[S_KEY], results[S_KEY], keep[32];
    s_key_job (key, sizeof key, job, "");
    s_key_job (prompts, sizeof prompts, job, ":prompts");
    s_key_job (active_key, sizeof active_key, job, ":active");
    s_key_job (results, sizeof results, job, ":results");
    snprintf (keep, sizeof keep, "%" PRId64, keep_s > 0 ? keep_s : 1);
    s_simple (self, "MULTI", NULL);
    s_simple (self, "DEL", prompts, active_key, results, NULL);
    s_simple (self, "HSET", key, "state", "done", NULL);
    s_simple (self, "EXPIRE", key, keep, NULL);
    s_simple (self, "SREM", "toa:jobs", job, NULL);
    s_simple (self, "EXEC", NULL);
}

/* --- reads ----------------------------------------------------------------- */

/* Flushes, then runs the N queued read commands and returns their replies. */
static int
s_round_trip (toa_store_t *self, size_t n, redisReply **replies)
{
    if (!self->redis || self->failed) {
        s_disconnect (self);
        return -1;
    }
    size_t writes = self->pending - n;
    self->pending = writes;
    if (writes && s_read (self, writes, NULL) != 0)
        return -1;
    self->pending = n;
    return s_read (self, n, replies);
}

int
toa_store_job_exists (toa_store_t *self, const char *job)
{
    s_increments_queue (self);
    char key[S_KEY];
    s_key_job (key, sizeof key, job, "");
    s_simple (self, "SISMEMBER", "toa:jobs", job, NULL);
    s_simple (self, "EXISTS", key, NULL);
    redisReply *replies[2];
    if (s_round_trip (self, 2, replies) != 0)
        return -1;
    int exists = replies[0]->integer || replies[1]->integer;
    freeReplyObject (replies[0]);
    freeReplyObject (replies[1]);
    return exists;
}

static char **
s_strings (const redisReply *reply, size_t *n)
{
    *n = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
    char **list = calloc (*n + 1, sizeof *list);
    for (size_t i = 0; list && i < *n; i++)
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            list[i] = strndup (reply->element[i]->str, reply->element[i]->len);
    return list;
}

int
toa_store_job_ids (toa_store_t *self, char ***ids, size_t *n)
{
    s_increments_queue (self);
    s_simple (self, "SMEMBERS", "toa:jobs", NULL);
    redisReply *reply;
    if (s_round_trip (self, 1, &reply) != 0)
        return -1;
    *ids = s_strings (reply, n);
    freeReplyObject (reply);
    return *ids ? 0 : -1;
}

void
toa_store_job_clear (toa_store_job_t *out)
{
    free (out->method);
    free (out->settings);
    free (out->state);
    free (out->owner);
    memset (out, 0, sizeof *out);
}

static void
s_job_field (toa_store_job_t *out, const char *field, const char *value)
{
    struct { const char *name; int64_t *slot; } numbers[] = {
        {"total", &out->total}, {"created_ms", &out->created_ms},
        {"admitted", &out->admitted}, {"done", &out->done}, {"next_seq", &out->next_seq},
        {"acked", &out->acked}, {"generations", &out->generations}, {"failed", &out->failed},
        {"spare", &out->spare},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
        if (strcmp (field, numbers[i].name) == 0)
            *numbers[i].slot = strtoll (value, NULL, 10);
    if (strcmp (field, "method") == 0 && !out->method)
        out->method = strdup (value);
    else if (strcmp (field, "settings") == 0 && !out->settings)
        out->settings = strdup (value);
    else if (strcmp (field, "state") == 0 && !out->state)
        out->state = strdup (value);
    else if (strcmp (field, "owner") == 0 && !out->owner)
        out->owner = strdup (value);
}

int
toa_store_job_load (toa_store_t *self, const char *job, toa_store_job_t *out)
{
    s_increments_queue (self);
    memset (out, 0, sizeof *out);
    char key[S_KEY];
    s_key_job (key, sizeof key, job, "");
    s_simple (self, "HGETALL", key, NULL);
    redisReply *reply;
    if (s_round_trip (self, 1, &reply) != 0)
        return -1;
    for (size_t i = 0; i + 1 < reply->elements; i += 2)
        if (reply->element[i]->type == REDIS_REPLY_STRING
            && reply->element[i + 1]->type == REDIS_REPLY_STRING)
            s_job_field (out, reply->element[i]->str, reply->element[i + 1]->str);
    freeReplyObject (reply);
    if (!out->method || !out->settings || !out->state) {
        toa_store_job_clear (out);
        return 1;
    }
    return 0;
}

static int
s_compare_int64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

int
toa_store_active (toa_store_t *self, const char *job, int64_t **indexes, size_t *n)
{
    s_increments_queue (self);
    char key[S_KEY];
    s_key_job (key, sizeof key, job, ":active");
    s_simple (self, "SMEMBERS", key, NULL);
    redisReply *reply;
    if (s_round_trip (self, 1, &reply) != 0)
        return -1;
    *n = 0;
    *indexes = calloc (reply->elements + 1, sizeof **indexes);
    if (!*indexes) {
        freeReplyObject (reply);
        return -1;
    }
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            (*indexes)[(*n)++] = strtoll (reply->element[i]->str, NULL, 10);
    freeReplyObject (reply);
    qsort (*indexes, *n, sizeof **indexes, s_compare_int64);
    return 0;
}

/* Runs N pipelined HGETs (KEY, field i) and collects the values. */
static int
s_hget_many (toa_store_t *self, const char *key, const int64_t *fields, int64_t first,
             size_t n, char ***values)
{
    s_increments_queue (self);
    *values = calloc (n + 1, sizeof **values);
    redisReply **replies = calloc (n + 1, sizeof *replies);
    if (!*values || !replies) {
        free (*values);
        free (replies);
        *values = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf (field, sizeof field, "%" PRId64, fields ? fields[i] : first + (int64_t) i);
        s_simple (self, "HGET", key, field, NULL);
    }
    if (s_round_trip (self, n, replies) != 0) {
        free (replies);
        free (*values);
        *values = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (replies[i]->type == REDIS_REPLY_STRING)
            (*values)[i] = strndup (replies[i]->str, replies[i]->len);
        freeReplyObject (replies[i]);
    }
    free (replies);
    return 0;
}

int
toa_store_lines (toa_store_t *self, const char *job, const int64_t *indexes, size_t n,
                 char ***lines)
{
    char key[S_KEY];
    s_key_job (key, sizeof key, job, ":prompts");
    return s_hget_many (self, key, indexes, 0, n, lines);
}

int
toa_store_results (toa_store_t *self, const char *job, int64_t from, size_t n, char ***lines)
{
    char key[S_KEY];
    s_key_job (key, sizeof key, job, ":results");
    return s_hget_many (self, key, NULL, from, n, lines);
}

int
toa_store_records_load (toa_store_t *self, const char *job, int64_t index, char ***texts,
                        char ***settles, size_t *n)
{
    s_increments_queue (self);
    char key[S_KEY];
    s_key_prompt (key, sizeof key, job, index);
    s_simple (self, "HGETALL", key, NULL);
    redisReply *reply;
    if (s_round_trip (self, 1, &reply) != 0)
        return -1;
    int64_t count = 0;
    for (size_t i = 0; i + 1 < reply->elements; i += 2)
        if (strcmp (reply->element[i]->str, "n") == 0)
            count = strtoll (reply->element[i + 1]->str, NULL, 10);
    if (count < 0 || count > 10000000)
        count = 0;
    *n = (size_t) count;
    *texts = calloc (*n + 1, sizeof **texts);
    *settles = calloc (*n + 1, sizeof **settles);
    if (!*texts || !*settles) {
        free (*texts);
        free (*settles);
        *texts = *settles = NULL;
        freeReplyObject (reply);
        return -1;
    }
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply *field = reply->element[i], *value = reply->element[i + 1];
        if (field->type != REDIS_REPLY_STRING
            || (strncmp (field->str, "g:", 2) != 0 && strncmp (field->str, "s:", 2) != 0))
            continue;
        char *end;
        long long g = strtoll (field->str + 2, &end, 10);
        if (*end || g < 0 || g >= count || value->type != REDIS_REPLY_STRING)
            continue;
        char **into = field->str[0] == 'g' ? *texts : *settles;
        free (into[g]);
        into[g] = strndup (value->str, value->len);
    }
    freeReplyObject (reply);
    return 0;
}

int
toa_store_allowance (toa_store_t *self, const char *job, int64_t index, int64_t *allowance)
{
    char key[S_KEY];
    s_key_prompt (key, sizeof key, job, index);
    s_simple (self, "HGET", key, "allowance", NULL);
    redisReply *reply;
    if (s_round_trip (self, 1, &reply) != 0)
        return -1;
    *allowance = reply->type == REDIS_REPLY_STRING ? strtoll (reply->str, NULL, 10) : 0;
    freeReplyObject (reply);
    return 0;
}

void
toa_store_strings_free (char **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free (list[i]);
    free (list);
}

/* http.c - libcurl multi engine with replica groups, queues, retries and
 * zmq_poll integration (see http.h). */
#define _XOPEN_SOURCE 700            /* strptime */
#include "common/http.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "common/log.h"
#include "common/util.h"

#define S_MAX_REPLICAS 64
#define S_EASY_POOL_MAX 256
#define S_URLS_PER_REPLICA 4         /* parsed URLs kept per replica (paths) */
#define S_HEADER_SETS 16             /* header lists kept for reuse */

typedef enum { S_QUEUED, S_DELAYED, S_RUNNING } s_state_t;

typedef struct s_request_s s_request_t;
typedef struct {
    s_request_t *head, *tail;
    size_t size;
} s_list_t;

struct s_request_s {
    uint64_t id;
    s_state_t state;
    int group;
    char *url_path;
    char *body;
    size_t body_size;
    struct curl_slist *headers;  /* shared (self->header_sets) unless own_headers */
    bool own_headers;
    long timeout_ms;
    int max_retries;
    uint64_t replica_mask;
    uint64_t affinity;
    toa_http_classify_fn *classify;
    toa_http_done_fn *done;
    void *arg;
    int attempts;                /* attempts started */
    int64_t submitted_ms;
    int64_t started_ms;          /* of the current attempt */
    int64_t not_before_ms;       /* while S_DELAYED */
    int replica;                 /* current or last replica */
    bool probe;                  /* this attempt probes a cooled-down replica */
    CURL *easy;                  /* while S_RUNNING */
    char *reply;                 /* reply body of the current attempt */
    size_t reply_size, reply_capacity;
    size_t reply_limit;          /* options.max_body_bytes */
    bool reply_too_large;
    char curl_error[CURL_ERROR_SIZE];
    s_request_t *prev, *next;    /* in exactly one list, by state */
};

typedef struct {
    char *path;
    CURLU *url;                  /* base URL + path, parsed once */
} s_url_t;

typedef struct {
    char *base_url;              /* without a trailing '/' */
    s_url_t urls[S_URLS_PER_REPLICA];
    size_t n_urls;
    int in_flight;
    int consecutive_failures;
    int64_t cool_until_ms;       /* cooling while now < this */
    int64_t cooldown_ms;         /* next cool-down length */
    bool cooled;                 /* went cold; needs a good probe */
    bool probing;                /* a probe is in flight */
} s_replica_t;

typedef struct {
    char *name;
    s_replica_t *replicas;
    size_t n_replicas;
    int max_concurrent;
    s_list_t queue;              /* S_QUEUED requests, dispatch order */
    uint64_t outcomes[TOA_HTTP_OUTCOMES]; /* attempts ended, by outcome */
    uint64_t retried[TOA_HTTP_OUTCOMES];  /* of those, retried */
    uint64_t *affinity_keys;     /* S_AFFINITY_SLOTS, direct-mapped: key -> */
    uint8_t *affinity_replicas;  /* the replica that served it last */
} s_group_t;

#define S_AFFINITY_SLOTS 4096    /* keys remembered per group (prompts in search) */

/* A request's header lines as curl takes them, kept for the next request
 * with the same lines (every request of a model has the same). */
typedef struct {
    char **lines;
    size_t n;
    struct curl_slist *list;
} s_header_set_t;

typedef struct {
    curl_socket_t fd;
    int what;                    /* CURL_POLL_IN / OUT / INOUT */
    size_t index;                /* in toa_http_t.sockets */
} s_socket_t;

struct toa_http_s {
    toa_http_options_t options;
    CURLM *multi;
    s_group_t *groups;
    size_t n_groups;
    s_list_t delayed;            /* S_DELAYED requests */
    s_list_t running;            /* S_RUNNING requests */
    size_t pending;
    uint64_t next_id;
    uint64_t rng;
    s_socket_t **sockets;        /* curl's sockets, each also curl_multi_assign()ed */
    size_t n_sockets, sockets_capacity;
    int64_t timer_deadline_ms;   /* curl's timer, -1 = none */
    CURL *easy_pool[S_EASY_POOL_MAX]; /* idle handles, their fixed options set */
    size_t n_easy_pool;
    s_header_set_t header_sets[S_HEADER_SETS];
    size_t n_header_sets;
    toa_http_stats_t stats;
};

/* ---------------------------------------------------------------- pure parts */

toa_http_verdict_t
toa_http_classify (long status, int curl_code)
{
    switch ((CURLcode) curl_code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return TOA_HTTP_RETRY;
    default:
        return TOA_HTTP_FAIL;
    }
    if (status >= 200 && status < 300)
        return TOA_HTTP_DONE;
    if (status == 408 || status == 409 || status == 429 || (status >= 500 && status < 600))
        return TOA_HTTP_RETRY;
    return TOA_HTTP_FAIL;
}

toa_http_outcome_t
toa_http_outcome (long status, int curl_code, toa_http_verdict_t verdict)
{
    switch ((CURLcode) curl_code) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        return TOA_HTTP_OUTCOME_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
        return TOA_HTTP_OUTCOME_REFUSED;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
        return TOA_HTTP_OUTCOME_MALFORMED;
    default:
        return TOA_HTTP_OUTCOME_OTHER;
    }
    if (status >= 200 && status < 300)
        return verdict == TOA_HTTP_DONE ? TOA_HTTP_OUTCOME_OK : TOA_HTTP_OUTCOME_MALFORMED;
    if (status == 408)
        return TOA_HTTP_OUTCOME_TIMEOUT;
    if (status == 429)
        return TOA_HTTP_OUTCOME_429;
    if (status >= 500 && status < 600)
        return TOA_HTTP_OUTCOME_5XX;
    if (status >= 400 && status < 500)
        return TOA_HTTP_OUTCOME_4XX;
    return TOA_HTTP_OUTCOME_OTHER;
}

const char *
toa_http_outcome_name (toa_http_outcome_t outcome)
{
    static const char *const names[TOA_HTTP_OUTCOMES] = {
        "ok", "timeout", "429", "5xx", "4xx", "malformed", "refused", "other"};
    return outcome >= 0 && outcome < TOA_HTTP_OUTCOMES ? names[outcome] : "other";
}

/* Parses a non-negative decimal number filling all of TEXT (spaces around
 * allowed). Returns 0 or -1. */
static int
s_parse_number (const char *text, double *value)
{
    while (isspace ((unsigned char) *text))
        text++;
    if (!isdigit ((unsigned char) *text) && *text != '.')
        return -1;
    char *end;
    errno = 0;
    double number = strtod (text, &end);
    while (isspace ((unsigned char) *end))
        end++;
    if (errno || *end || !isfinite (number) || number < 0)
        return -1;
    *value = number;
    return 0;
}

/* Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime). Epoch ms or -1. */
static int64_t
s_parse_http_date (const char *text)
{
    static const char *formats[] = {
        "%a, %d %b %Y %H:%M:%S GMT",   /* Sun, 06 Nov 1994 08:49:37 GMT */
        "%A, %d-%b-%y %H:%M:%S GMT",   /* Sunday, 06-Nov-94 08:49:37 GMT */
        "%a %b %e %H:%M:%S %Y",        /* Sun Nov  6 08:49:37 1994 */
    };
    while (isspace ((unsigned char) *text))
        text++;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm;
        memset (&tm, 0, sizeof tm);
        const char *end = strptime (text, formats[i], &tm);
        if (!end)
            continue;
        while (isspace ((unsigned char) *end))
            end++;
        if (*end)
            continue;
        time_t seconds = timegm (&tm);
        if (seconds == (time_t) -1)
            continue;
        return (int64_t) seconds * 1000;
    }
    return -1;
}

int64_t
toa_http_parse_retry_after (const char *retry_after_ms, const char *retry_after,
                            int64_t now_wall_ms)
{
    double value;
    if (retry_after_ms && s_parse_number (retry_after_ms, &value) == 0 && value < 1e12)
        return (int64_t) ceil (value);
    if (!retry_after)
        return -1;
    if (s_parse_number (retry_after, &value) == 0)
        return value < 1e9 ? (int64_t) ceil (value * 1000) : -1;
    int64_t date_ms = s_parse_http_date (retry_after);
    if (date_ms < 0)
        return -1;
    return date_ms > now_wall_ms ? date_ms - now_wall_ms : 0;
}

int64_t
toa_http_backoff_ms (int attempt, int64_t base_ms, int64_t max_ms, double uniform)
{
    if (attempt < 1)
        attempt = 1;
    if (base_ms < 1)
        base_ms = 1;
    int64_t delay = base_ms;
    for (int i = 1; i < attempt && delay < max_ms; i++)
        delay *= 2;
    if (delay > max_ms)
        delay = max_ms;
    if (uniform < 0)
        uniform = 0;
    if (uniform >= 1)
        uniform = 0.999999;
    return delay / 2 + (int64_t) ((double) (delay - delay / 2) * uniform);
}

void
toa_http_result_describe (const toa_http_result_t *result, char *text, size_t size)
{
    if (result->exhausted)
        snprintf (text, size, "gave up after %d attempts: %s", result->attempts, result->reason);
    else
        snprintf (text, size, "%s", result->reason);
}

char *
toa_http_bearer_header (const char *key)
{
    size_t size = strlen ("Authorization: Bearer ") + strlen (key) + 1;
    char *header = malloc (size);
    if (header)
        snprintf (header, size, "Authorization: Bearer %s", key);
    return header;
}

void
toa_http_secret_free (char **secret_p)
{
    if (!secret_p || !*secret_p)
        return;
    memset (*secret_p, 0, strlen (*secret_p));
    free (*secret_p);
    *secret_p = NULL;
}

/* ---------------------------------------------------------------- lists */

static void
s_list_push_back (s_list_t *list, s_request_t *request)
{
    request->prev = list->tail;
    request->next = NULL;
    if (list->tail)
        list->tail->next = request;
    else
        list->head = request;
    list->tail = request;
    list->size++;
}

static void
s_list_push_front (s_list_t *list, s_request_t *request)
{
    request->next = list->head;
    request->prev = NULL;
    if (list->head)
        list->head->prev = request;
    else
        list->tail = request;
    list->head = request;
    list->size++;
}

static void
s_list_remove (s_list_t *list, s_request_t *request)
{
    if (request->prev)
        request->prev->next = request->next;
    else
        list->head = request->next;
    if (request->next)
        request->next->prev = request->prev;
    else
        list->tail = request->prev;
    request->prev = request->next = NULL;
    list->size--;
}

static s_list_t *
s_list_of (toa_http_t *self, s_request_t *request)
{
    switch (request->state) {
    case S_QUEUED:  return &self->groups[request->group].queue;
    case S_DELAYED: return &self->delayed;
    default:        return &self->running;
    }
}

/* ---------------------------------------------------------------- curl glue */

static int
s_socket_callback (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void) easy;
    toa_http_t *self = userp;
    s_socket_t *entry = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (entry) {
            s_socket_t *last = self->sockets[--self->n_sockets];
            self->sockets[entry->index] = last;
            last->index = entry->index;
            free (entry);
        }
        return 0;
    }
    if (!entry) {
        if (self->n_sockets == self->sockets_capacity) {
            size_t capacity = self->sockets_capacity ? self->sockets_capacity * 2 : 16;
            s_socket_t **sockets = realloc (self->sockets, capacity * sizeof *sockets);
            if (!sockets)
                return -1;
            self->sockets = sockets;
            self->sockets_capacity = capacity;
        }
        entry = calloc (1, sizeof *entry);
        if (!entry)
            return -1;
        entry->index = self->n_sockets;
        self->sockets[self->n_sockets++] = entry;
        curl_multi_assign (self->multi, fd, entry);
    }
    entry->fd = fd;
    entry->what = what;
    return 0;
}

static int
s_timer_callback (CURLM *multi, long timeout_ms, void *userp)
{
    (void) multi;
    toa_http_t *self = userp;
    self->timer_deadline_ms = timeout_ms < 0 ? -1 : toa_now_ms () + timeout_ms;
    return 0;
}

static size_t
s_write_callback (char *data, size_t size, size_t count, void *userp)
{
    s_request_t *request = userp;
    size_t bytes = size * count;
    if (request->reply_size + bytes > request->reply_limit) {
        request->reply_too_large = true;
        return 0;                             /* curl fails with CURLE_WRITE_ERROR */
    }
    if (request->reply_size + bytes + 1 > request->reply_capacity) {
        size_t capacity = request->reply_capacity ? request->reply_capacity : 4096;
        while (capacity < request->reply_size + bytes + 1)
            capacity *= 2;
        char *reply = realloc (request->reply, capacity);
        if (!reply)
            return 0;
        request->reply = reply;
        request->reply_capacity = capacity;
    }
    memcpy (request->reply + request->reply_size, data, bytes);
    request->reply_size += bytes;
    request->reply[request->reply_size] = 0;
    return bytes;
}

/* ---------------------------------------------------------------- life */

toa_http_t *
toa_http_new (const toa_http_options_t *options)
{
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    toa_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (options)
        self->options = *options;
    toa_http_options_t *o = &self->options;
    if (o->retry_base_ms <= 0) o->retry_base_ms = 500;
    if (o->retry_max_ms <= 0) o->retry_max_ms = 30000;
    if (o->retry_max_ms < o->retry_base_ms) o->retry_max_ms = o->retry_base_ms;
    if (o->retry_after_max_ms <= 0) o->retry_after_max_ms = 120000;
    if (o->failures_to_cool <= 0) o->failures_to_cool = 3;
    if (o->cooldown_min_ms <= 0) o->cooldown_min_ms = 5000;
    if (o->cooldown_max_ms < o->cooldown_min_ms)
        o->cooldown_max_ms = o->cooldown_min_ms > 60000 ? o->cooldown_min_ms : 60000;
    if (o->max_body_bytes == 0) o->max_body_bytes = 64u * 1024 * 1024;
    self->rng = o->seed ? o->seed : (uint64_t) toa_wall_ms () ^ ((uint64_t) toa_now_ms () << 20);
    self->timer_deadline_ms = -1;
    self->next_id = 1;
    self->multi = curl_multi_init ();
    if (!self->multi) {
        free (self);
        return NULL;
    }
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_callback);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_timer_callback);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    return self;
}

/* Frees LIST after zeroing its lines (an Authorization line is a secret). */
static void
s_slist_free_wiped (struct curl_slist *list)
{
    for (struct curl_slist *node = list; node; node = node->next)
        if (node->data)
            memset (node->data, 0, strlen (node->data));
    curl_slist_free_all (list);
}

static void
s_request_free (s_request_t *request)
{
    if (!request)
        return;
    free (request->url_path);
    free (request->body);
    if (request->own_headers)
        s_slist_free_wiped (request->headers);
    free (request->reply);
    free (request);
}

/* Takes REQUEST's easy handle off the multi handle and keeps it for reuse,
 * options and all: the next request sets every option that varies (no
 * curl_easy_reset, which would make it set them all again). */
static void
s_release_easy (toa_http_t *self, s_request_t *request)
{
    if (!request->easy)
        return;
    curl_multi_remove_handle (self->multi, request->easy);
    if (self->n_easy_pool < S_EASY_POOL_MAX) {
        curl_easy_setopt (request->easy, CURLOPT_ERRORBUFFER, NULL);  /* the request goes */
        curl_easy_setopt (request->easy, CURLOPT_PRIVATE, NULL);
        self->easy_pool[self->n_easy_pool++] = request->easy;
    }
    else
        curl_easy_cleanup (request->easy);
    request->easy = NULL;
}

void
toa_http_destroy (toa_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_http_t *self = *self_p;
    toa_http_cancel_all (self);
    for (size_t i = 0; i < self->n_easy_pool; i++)
        curl_easy_cleanup (self->easy_pool[i]);
    curl_multi_cleanup (self->multi);
    for (size_t i = 0; i < self->n_sockets; i++)
        free (self->sockets[i]);             /* sockets curl did not remove */
    for (size_t i = 0; i < self->n_header_sets; i++) {
        s_header_set_t *set = &self->header_sets[i];
        for (size_t j = 0; j < set->n; j++)
            toa_http_secret_free (&set->lines[j]);
        free (set->lines);
        s_slist_free_wiped (set->list);
    }
    for (size_t g = 0; g < self->n_groups; g++) {
        for (size_t r = 0; r < self->groups[g].n_replicas; r++) {
            s_replica_t *replica = &self->groups[g].replicas[r];
            for (size_t u = 0; u < replica->n_urls; u++) {
                free (replica->urls[u].path);
                curl_url_cleanup (replica->urls[u].url);
            }
            free (replica->base_url);
        }
        free (self->groups[g].replicas);
        free (self->groups[g].name);
        free (self->groups[g].affinity_keys);
        free (self->groups[g].affinity_replicas);
    }
    free (self->groups);
    free (self->sockets);
    free (self);
    *self_p = NULL;
}

int
toa_http_add_group (toa_http_t *self, const char *name, const char *const *base_urls,
                    size_t n_urls, int max_concurrent)
{
    if (!self || !base_urls || n_urls == 0 || n_urls > S_MAX_REPLICAS || max_concurrent < 1)
        return -1;
    s_group_t *groups = realloc (self->groups, (self->n_groups + 1) * sizeof *groups);
    if (!groups)
        return -1;
    self->groups = groups;
    s_group_t *group = &groups[self->n_groups];
    memset (group, 0, sizeof *group);
    group->name = strdup (name ? name : "http");
    group->replicas = calloc (n_urls, sizeof *group->replicas);
    bool ok = group->name && group->replicas;
    for (size_t i = 0; ok && i < n_urls; i++) {
        ok = base_urls[i] != NULL
          && (group->replicas[i].base_url = strdup (base_urls[i])) != NULL;
        if (ok) {
            char *url = group->replicas[i].base_url;
            size_t length = strlen (url);
            while (length > 0 && url[length - 1] == '/')
                url[--length] = 0;
            group->replicas[i].cooldown_ms = self->options.cooldown_min_ms;
        }
        group->n_replicas = i + 1;
    }
    group->max_concurrent = max_concurrent;
    if (!ok) {
        for (size_t i = 0; i < group->n_replicas; i++)
            free (group->replicas[i].base_url);
        free (group->replicas);
        free (group->name);
        return -1;
    }
    /* keep enough idle connections for every slot of every group */
    long connections = 0;
    for (size_t g = 0; g <= self->n_groups; g++)
        connections += (long) self->groups[g].n_replicas * self->groups[g].max_concurrent;
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, connections);
    return (int) self->n_groups++;
}

/* ---------------------------------------------------------------- dispatch */

/* Whether REPLICA may take one more request now. */
static bool
s_replica_open (const toa_http_t *self, const s_group_t *group, const s_replica_t *replica,
                int64_t now)
{
    (void) self;
    if (replica->in_flight >= group->max_concurrent)
        return false;
    if (!replica->cooled)
        return true;
    return now >= replica->cool_until_ms && !replica->probing;
}

/* The open replica allowed by MASK with the fewest requests in flight, or
 * -1. AVOID (a replica that just failed this request, or -1) is taken only
 * when no other replica is open. */
static int
s_pick_replica (const toa_http_t *self, const s_group_t *group, uint64_t mask, int avoid,
                int64_t now)
{
    int best = -1;
    for (size_t i = 0; i < group->n_replicas; i++) {
        if (mask && !(mask & (UINT64_C (1) << i)))
            continue;
        const s_replica_t *replica = &group->replicas[i];
        if (!s_replica_open (self, group, replica, now))
            continue;
        if (best < 0 || (best == avoid && (int) i != avoid)
            || ((int) i != avoid && replica->in_flight < group->replicas[best].in_flight))
            best = (int) i;
    }
    return best;
}

/* For a request with an affinity key: the replica that served the key
 * last, else the key's rendezvous-hash replica (the same in every worker),
 * when it is allowed and open; otherwise -1 (then the least loaded). */
static int
s_affine_replica (const toa_http_t *self, const s_group_t *group, const s_request_t *request,
                  int64_t now)
{
    if (!request->affinity || request->replica >= 0 || group->n_replicas < 2)
        return -1;
    size_t slot = request->affinity % S_AFFINITY_SLOTS;
    int best = -1;
    if (group->affinity_keys && group->affinity_keys[slot] == request->affinity)
        best = group->affinity_replicas[slot];
    else {
        uint64_t best_score = 0;
        for (size_t i = 0; i < group->n_replicas; i++) {
            uint64_t score = toa_splitmix64 (request->affinity ^ toa_splitmix64 (i + 1));
            if (best < 0 || score > best_score) {
                best = (int) i;
                best_score = score;
            }
        }
    }
    if (best < 0 || (size_t) best >= group->n_replicas
        || (request->replica_mask && !(request->replica_mask & (UINT64_C (1) << best)))
        || !s_replica_open (self, group, &group->replicas[best], now))
        return -1;
    return best;
}

/* Remembers that REPLICA serves REQUEST's affinity key. */
static void
s_affine_remember (s_group_t *group, const s_request_t *request, int replica)
{
    if (!request->affinity || group->n_replicas < 2 || replica > UINT8_MAX)
        return;
    if (!group->affinity_keys) {
        group->affinity_keys = calloc (S_AFFINITY_SLOTS, sizeof *group->affinity_keys);
        group->affinity_replicas = calloc (S_AFFINITY_SLOTS, sizeof *group->affinity_replicas);
        if (!group->affinity_keys || !group->affinity_replicas) {
            free (group->affinity_keys);
            free (group->affinity_replicas);
            group->affinity_keys = NULL;
            group->affinity_replicas = NULL;
            return;          /* out of memory: rendezvous hashing alone */
        }
    }
    size_t slot = request->affinity % S_AFFINITY_SLOTS;
    group->affinity_keys[slot] = request->affinity;
    group->affinity_replicas[slot] = (uint8_t) replica;
}

/* A new easy handle with the options every request shares. */
static CURL *
s_easy_new (toa_http_t *self)
{
    CURL *easy = curl_easy_init ();
    if (!easy)
        return NULL;
    curl_easy_setopt (easy, CURLOPT_POST, 1L);
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_write_callback);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt (easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt (easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) self->options.max_body_bytes);
    curl_easy_setopt (easy, CURLOPT_VERBOSE, 0L);   /* headers hold secrets */
    return easy;
}

/* REPLICA's URL for PATH, parsed once and kept (curl reads it, never
 * changes it), or NULL when it cannot be kept or parsed: the caller then
 * passes the text, and curl says what is wrong with it. */
static CURLU *
s_replica_url (s_replica_t *replica, const char *path)
{
    for (size_t i = 0; i < replica->n_urls; i++)
        if (strcmp (replica->urls[i].path, path) == 0)
            return replica->urls[i].url;
    if (replica->n_urls == S_URLS_PER_REPLICA)
        return NULL;
    size_t size = strlen (replica->base_url) + strlen (path) + 1;
    char *text = malloc (size);
    CURLU *url = curl_url ();
    char *copy = strdup (path);
    bool ok = text && url && copy;
    if (ok) {
        snprintf (text, size, "%s%s", replica->base_url, path);
        /* as CURLOPT_URL parses it */
        ok = curl_url_set (url, CURLUPART_URL, text,
                           CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK;
    }
    free (text);
    if (!ok) {
        curl_url_cleanup (url);
        free (copy);
        return NULL;
    }
    replica->urls[replica->n_urls++] = (s_url_t) {copy, url};
    return url;
}

static int
s_start (toa_http_t *self, s_request_t *request, int replica_index, int64_t now)
{
    s_group_t *group = &self->groups[request->group];
    s_replica_t *replica = &group->replicas[replica_index];
    CURL *easy = self->n_easy_pool ? self->easy_pool[--self->n_easy_pool] : s_easy_new (self);
    if (!easy)
        return -1;
    CURLU *url = s_replica_url (replica, request->url_path);
    curl_easy_setopt (easy, CURLOPT_CURLU, url);
    if (!url) {
        size_t url_size = strlen (replica->base_url) + strlen (request->url_path) + 1;
        char *text = malloc (url_size);
        if (!text) {
            curl_easy_cleanup (easy);
            return -1;
        }
        snprintf (text, url_size, "%s%s", replica->base_url, request->url_path);
        curl_easy_setopt (easy, CURLOPT_URL, text);   /* curl copies it */
        free (text);
    }
    request->reply_size = 0;
    request->reply_too_large = false;
    request->curl_error[0] = 0;
    long connect_timeout = request->timeout_ms < 10000 ? request->timeout_ms : 10000;
    curl_easy_setopt (easy, CURLOPT_POSTFIELDS, request->body);
    curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) request->body_size);
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, request->headers);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, request);
    curl_easy_setopt (easy, CURLOPT_PRIVATE, request);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, request->curl_error);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, request->timeout_ms);
    curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
    if (curl_multi_add_handle (self->multi, easy) != CURLM_OK) {
        curl_easy_cleanup (easy);
        return -1;
    }
    request->easy = easy;
    request->replica = replica_index;
    request->attempts++;
    request->started_ms = now;
    request->probe = replica->cooled;
    if (request->probe)
        replica->probing = true;
    replica->in_flight++;
    request->state = S_RUNNING;
    s_list_push_back (&self->running, request);
    self->stats.attempts++;
    if (request->attempts > 1)
        self->stats.retries++;
    return 0;
}

/* Starts queued requests of GROUP while replicas have room. */
static void
s_dispatch (toa_http_t *self, int group_index, int64_t now)
{
    s_group_t *group = &self->groups[group_index];
    s_request_t *request = group->queue.head;
    while (request) {
        s_request_t *next = request->next;
        if (s_pick_replica (self, group, 0, -1, now) < 0)
            return;                           /* nothing open at all */
        int replica = s_affine_replica (self, group, request, now);
        if (replica < 0)
            replica = s_pick_replica (self, group, request->replica_mask, request->replica,
                                      now);
        if (replica >= 0) {
            s_affine_remember (group, request, replica);
            s_list_remove (&group->queue, request);
            if (s_start (self, request, replica, now) != 0) {
                /* out of memory or curl refused: try again shortly, never
                 * calling back from here (submit and cancel call this) */
                toa_warn ("http: %s: cannot start a request; trying again in 100 ms",
                          group->name);
                request->not_before_ms = now + 100;
                request->state = S_DELAYED;
                s_list_push_back (&self->delayed, request);
                return;
            }
        }
        request = next;
    }
}

/* The curl header list of LINES: the fixed lines, then LINES. */
static struct curl_slist *
s_header_list (const char *const *lines, size_t n)
{
    const char *fixed[] = {"Content-Type: application/json", "Expect:"};
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < 2 + n; i++) {
        const char *line = i < 2 ? fixed[i] : lines[i - 2];
        struct curl_slist *longer = line ? curl_slist_append (list, line) : NULL;
        if (!longer) {
            s_slist_free_wiped (list);
            return NULL;
        }
        list = longer;
    }
    return list;
}

/* Gives REQUEST the header list of LINES (N of them): a kept one with the
 * same lines, else a new one, kept while there is room. 0 or -1. */
static int
s_headers_of (toa_http_t *self, s_request_t *request, const char *const *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!lines[i])
            return -1;
    for (size_t i = 0; i < self->n_header_sets; i++) {
        s_header_set_t *set = &self->header_sets[i];
        bool same = set->n == n;
        for (size_t j = 0; same && j < n; j++)
            same = strcmp (set->lines[j], lines[j]) == 0;
        if (same) {
            request->headers = set->list;
            return 0;
        }
    }
    struct curl_slist *list = s_header_list (lines, n);
    if (!list)
        return -1;
    request->headers = list;
    request->own_headers = true;
    if (self->n_header_sets == S_HEADER_SETS)
        return 0;
    s_header_set_t set = {n ? calloc (n, sizeof (char *)) : NULL, n, list};
    bool ok = !n || set.lines;
    for (size_t j = 0; ok && j < n; j++)
        ok = (set.lines[j] = strdup (lines[j])) != NULL;
    if (!ok) {
        for (size_t j = 0; set.lines && j < n; j++)
            toa_http_secret_free (&set.lines[j]);
        free (set.lines);
        return 0;                                /* not kept: the request owns it */
    }
    self->header_sets[self->n_header_sets++] = set;
    request->own_headers = false;
    return 0;
}

uint64_t
toa_http_submit (toa_http_t *self, const toa_http_request_t *spec)
{
    if (!self || !spec || !spec->done || !spec->path || spec->group < 0
        || (size_t) spec->group >= self->n_groups || (spec->body_size && !spec->body)
        || (spec->take_body && !spec->body)) {
        if (spec && spec->take_body)
            free ((char *) spec->body);
        return 0;
    }
    s_request_t *request = calloc (1, sizeof *request);
    if (!request) {
        if (spec->take_body)
            free ((char *) spec->body);
        return 0;
    }
    request->url_path = strdup (spec->path);
    request->body = spec->take_body ? (char *) spec->body : malloc (spec->body_size + 1);
    bool ok = request->url_path && request->body;
    if (ok && !spec->take_body) {
        if (spec->body_size)
            memcpy (request->body, spec->body, spec->body_size);
        request->body[spec->body_size] = 0;
    }
    if (ok)
        ok = s_headers_of (self, request, spec->headers, spec->n_headers) == 0;
    if (!ok) {
        s_request_free (request);
        return 0;
    }
    request->id = self->next_id++;
    request->reply_limit = self->options.max_body_bytes;
    request->group = spec->group;
    request->body_size = spec->body_size;
    request->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : 60000;
    request->max_retries = spec->max_retries > 0 ? spec->max_retries : 0;
    request->replica_mask = spec->replica_mask;
    request->affinity = spec->affinity;
    request->classify = spec->classify;
    request->done = spec->done;
    request->arg = spec->arg;
    request->submitted_ms = toa_now_ms ();
    request->replica = -1;
    request->state = S_QUEUED;
    s_list_push_back (&self->groups[spec->group].queue, request);
    self->pending++;
    s_dispatch (self, spec->group, request->submitted_ms);
    return request->id;
}

/* Unlinks REQUEST from its list and gives back its replica slot. */
static void
s_detach (toa_http_t *self, s_request_t *request)
{
    s_list_remove (s_list_of (self, request), request);
    if (request->state == S_RUNNING) {
        s_replica_t *replica = &self->groups[request->group].replicas[request->replica];
        replica->in_flight--;
        if (request->probe)
            replica->probing = false;
        request->probe = false;
        s_release_easy (self, request);
    }
}

/* Detaches and frees REQUEST without a callback. */
static void
s_drop (toa_http_t *self, s_request_t *request)
{
    s_detach (self, request);
    self->pending--;
    s_request_free (request);
}

int
toa_http_cancel (toa_http_t *self, uint64_t id)
{
    if (!self || id == 0)
        return -1;
    s_list_t *lists[2] = {&self->running, &self->delayed};
    s_request_t *found = NULL;
    for (size_t l = 0; l < 2 && !found; l++)
        for (s_request_t *r = lists[l]->head; r && !found; r = r->next)
            if (r->id == id)
                found = r;
    for (size_t g = 0; g < self->n_groups && !found; g++)
        for (s_request_t *r = self->groups[g].queue.head; r && !found; r = r->next)
            if (r->id == id)
                found = r;
    if (!found)
        return -1;
    int group = found->group;
    bool was_running = found->state == S_RUNNING;
    s_drop (self, found);
    if (was_running)
        s_dispatch (self, group, toa_now_ms ());
    return 0;
}

size_t
toa_http_cancel_all (toa_http_t *self)
{
    if (!self)
        return 0;
    size_t count = 0;
    s_list_t *lists[2] = {&self->running, &self->delayed};
    for (size_t l = 0; l < 2; l++)
        while (lists[l]->head) {
            s_drop (self, lists[l]->head);
            count++;
        }
    for (size_t g = 0; g < self->n_groups; g++)
        while (self->groups[g].queue.head) {
            s_drop (self, self->groups[g].queue.head);
            count++;
        }
    return count;
}

size_t
toa_http_pending (const toa_http_t *self)
{
    return self ? self->pending : 0;
}

int
toa_http_in_flight (const toa_http_t *self, int group, int replica)
{
    if (!self || group < 0 || (size_t) group >= self->n_groups || replica < 0
        || (size_t) replica >= self->groups[group].n_replicas)
        return -1;
    return self->groups[group].replicas[replica].in_flight;
}

size_t
toa_http_groups (const toa_http_t *self)
{
    return self ? self->n_groups : 0;
}

const char *
toa_http_group_name (const toa_http_t *self, int group)
{
    if (!self || group < 0 || (size_t) group >= self->n_groups)
        return NULL;
    return self->groups[group].name;
}

toa_http_group_stats_t
toa_http_group_stats (const toa_http_t *self, int group)
{
    toa_http_group_stats_t stats;
    memset (&stats, 0, sizeof stats);
    if (!self || group < 0 || (size_t) group >= self->n_groups)
        return stats;
    const s_group_t *g = &self->groups[group];
    memcpy (stats.attempts, g->outcomes, sizeof stats.attempts);
    memcpy (stats.retries, g->retried, sizeof stats.retries);
    for (size_t r = 0; r < g->n_replicas; r++)
        stats.in_flight += g->replicas[r].in_flight;
    stats.queued = (int) g->queue.size;
    return stats;
}

toa_http_stats_t
toa_http_stats (const toa_http_t *self)
{
    toa_http_stats_t none = {0};
    return self ? self->stats : none;
}

/* ---------------------------------------------------------------- completion */

/* Calls the callback of REQUEST (detached from every list) with its final
 * result and frees it. */
static void
s_finish (toa_http_t *self, s_request_t *request, toa_http_verdict_t verdict, bool exhausted,
          const toa_http_response_t *response, const char *reason)
{
    self->pending--;
    toa_http_result_t result = {
        .verdict = verdict == TOA_HTTP_DONE ? TOA_HTTP_DONE : TOA_HTTP_FAIL,
        .exhausted = exhausted,
        .response = response,
        .reason = verdict == TOA_HTTP_DONE ? "" : reason,
        .attempts = request->attempts,
        .elapsed_ms = toa_now_ms () - request->submitted_ms,
    };
    if (result.verdict == TOA_HTTP_DONE)
        self->stats.succeeded++;
    else
        self->stats.failed++;
    request->done (request->arg, &result);
    s_request_free (request);
}

/* Updates the health of the replica that served RESPONSE. A 5xx that the
 * classifier judged permanent (VERDICT FAIL: the answer blames the request,
 * say llama.cpp's 500 "context shift is disabled") is not the replica's
 * failure. */
static void
s_note_health (toa_http_t *self, s_request_t *request, const toa_http_response_t *response,
               toa_http_verdict_t verdict, int64_t now)
{
    s_group_t *group = &self->groups[request->group];
    s_replica_t *replica = &group->replicas[request->replica];
    bool failure = response->curl_code != CURLE_OK
                 ? toa_http_classify (0, response->curl_code) == TOA_HTTP_RETRY
                 : response->status >= 500 && verdict != TOA_HTTP_FAIL;
    if (request->probe)
        replica->probing = false;
    if (!failure) {
        if (replica->cooled)
            toa_info ("http: %s replica %d is answering again", group->name, request->replica);
        replica->consecutive_failures = 0;
        replica->cooled = false;
        replica->cooldown_ms = self->options.cooldown_min_ms;
        return;
    }
    replica->consecutive_failures++;
    if (replica->consecutive_failures < self->options.failures_to_cool
        && !(replica->cooled && request->probe))
        return;
    if (replica->cooled && now < replica->cool_until_ms)
        return;                                /* already cooling */
    replica->cooled = true;
    replica->cool_until_ms = now + replica->cooldown_ms;
    toa_warn ("http: %s replica %d failed %d times in a row; cooling down for %lld ms",
              group->name, request->replica, replica->consecutive_failures,
              (long long) replica->cooldown_ms);
    replica->cooldown_ms *= 2;
    if (replica->cooldown_ms > self->options.cooldown_max_ms)
        replica->cooldown_ms = self->options.cooldown_max_ms;
    self->stats.cooldowns++;
}

static const char *
s_header (CURL *easy, const char *name)
{
    struct curl_header *header = NULL;
    if (curl_easy_header (easy, name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK || !header)
        return NULL;
    return header->value;
}

/* Default reason of a RETRY or FAIL verdict. */
static void
s_default_reason (const toa_http_response_t *response, char *reason, size_t size)
{
    if (response->curl_code != CURLE_OK)
        snprintf (reason, size, "%s", *response->curl_error ? response->curl_error
                                      : curl_easy_strerror ((CURLcode) response->curl_code));
    else
        snprintf (reason, size, "HTTP %ld", response->status);
}

static void
s_complete (toa_http_t *self, s_request_t *request, CURLcode code, int64_t now)
{
    long status = 0;
    curl_easy_getinfo (request->easy, CURLINFO_RESPONSE_CODE, &status);
    /* Retry-After matters to answers that may be retried (not a 2xx) */
    bool waits = status && (status < 200 || status > 299);
    const char *retry_after_ms = waits ? s_header (request->easy, "retry-after-ms") : NULL;
    const char *retry_after = waits ? s_header (request->easy, "retry-after") : NULL;
    toa_http_response_t response = {
        .status = status,
        .curl_code = (int) code,
        .curl_error = code == CURLE_OK ? ""
                    : (*request->curl_error ? request->curl_error : curl_easy_strerror (code)),
        .body = request->reply ? request->reply : "",
        .body_size = request->reply_size,
        .retry_after_ms = toa_http_parse_retry_after (retry_after_ms, retry_after, toa_wall_ms ()),
        .replica = request->replica,
        .attempt = request->attempts,
        .elapsed_ms = now - request->started_ms,
    };
    char reason[512] = "";
    toa_http_verdict_t verdict = toa_http_classify (status, (int) code);
    if (code == CURLE_FILESIZE_EXCEEDED || request->reply_too_large)
        snprintf (reason, sizeof reason, "reply larger than %zu bytes or out of memory",
                  self->options.max_body_bytes);
    else if (request->classify)
        verdict = request->classify (request->arg, &response, verdict, reason, sizeof reason);
    if (verdict != TOA_HTTP_DONE && !*reason)
        s_default_reason (&response, reason, sizeof reason);

    s_note_health (self, request, &response, verdict, now);
    s_group_t *group = &self->groups[request->group];
    toa_http_outcome_t outcome = toa_http_outcome (status, (int) code, verdict);
    if (code == CURLE_OK && request->reply_too_large)
        outcome = TOA_HTTP_OUTCOME_MALFORMED;
    group->outcomes[outcome]++;
    if (verdict == TOA_HTTP_RETRY && request->attempts <= request->max_retries) {
        group->retried[outcome]++;
        int64_t delay = toa_http_backoff_ms (request->attempts, self->options.retry_base_ms,
                                             self->options.retry_max_ms,
                                             toa_random_uniform (&self->rng));
        if (response.retry_after_ms > delay)
            delay = response.retry_after_ms < self->options.retry_after_max_ms
                        ? response.retry_after_ms : self->options.retry_after_max_ms;
        toa_debug ("http: %s replica %d attempt %d: %s; retrying in %lld ms", group->name,
                   request->replica, request->attempts, reason, (long long) delay);
        s_detach (self, request);
        request->not_before_ms = now + delay;
        request->state = S_DELAYED;
        s_list_push_back (&self->delayed, request);
        return;
    }
    if (verdict != TOA_HTTP_DONE)
        toa_debug ("http: %s replica %d attempt %d: %s; giving up", group->name,
                   request->replica, request->attempts, reason);
    /* the reply buffer stays valid through the callback; the easy handle goes */
    s_detach (self, request);
    s_finish (self, request, verdict, verdict == TOA_HTTP_RETRY, &response, reason);
}

/* ---------------------------------------------------------------- loop */

size_t
toa_http_poll_count (const toa_http_t *self)
{
    return self ? self->n_sockets : 0;
}

size_t
toa_http_poll_fill (const toa_http_t *self, zmq_pollitem_t *items, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; self && i < self->n_sockets && n < max; i++, n++) {
        items[n].socket = NULL;
        items[n].fd = self->sockets[i]->fd;
        items[n].events = (short) (((self->sockets[i]->what & CURL_POLL_IN) ? ZMQ_POLLIN : 0)
                                   | ((self->sockets[i]->what & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0));
        items[n].revents = 0;
    }
    return n;
}

long
toa_http_poll_timeout (const toa_http_t *self)
{
    if (!self)
        return -1;
    int64_t now = toa_now_ms ();
    int64_t deadline = self->timer_deadline_ms;
    for (s_request_t *r = self->delayed.head; r; r = r->next)
        if (deadline < 0 || r->not_before_ms < deadline)
            deadline = r->not_before_ms;
    for (size_t g = 0; g < self->n_groups; g++) {
        if (!self->groups[g].queue.head)
            continue;
        for (size_t i = 0; i < self->groups[g].n_replicas; i++) {
            const s_replica_t *replica = &self->groups[g].replicas[i];
            if (replica->cooled && replica->cool_until_ms > now
                && (deadline < 0 || replica->cool_until_ms < deadline))
                deadline = replica->cool_until_ms;
        }
    }
    if (deadline < 0)
        return -1;
    return deadline <= now ? 0 : (long) (deadline - now);
}

static void
s_read_completions (toa_http_t *self)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read (self->multi, &left))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        CURL *easy = message->easy_handle;
        CURLcode code = message->data.result;   /* copy: message dies on remove */
        s_request_t *request = NULL;
        curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **) &request);
        if (request)
            s_complete (self, request, code, toa_now_ms ());
    }
}

/* True when every replica of GROUP is cooling down or probing: nothing
 * queued for it can start before a cool-down ends. */
static bool
s_group_cold (const s_group_t *group, int64_t now)
{
    for (size_t i = 0; i < group->n_replicas; i++) {
        const s_replica_t *replica = &group->replicas[i];
        if (!replica->cooled || (now >= replica->cool_until_ms && !replica->probing))
            return false;
    }
    return group->n_replicas > 0;
}

/* Fails (transient, retries exhausted) what waits for a group whose every
 * replica is cooling down, instead of holding it for up to a cool-down: the
 * caller (the broker, through the worker) can then spend the work elsewhere.
 * A probe in flight still tells when a replica is back. */
static void
s_fail_cold_groups (toa_http_t *self, int64_t now)
{
    for (size_t g = 0; g < self->n_groups; g++) {
        s_group_t *group = &self->groups[g];
        if (!group->queue.head || !s_group_cold (group, now))
            continue;
        int64_t back = -1;
        for (size_t i = 0; i < group->n_replicas; i++)
            if (back < 0 || group->replicas[i].cool_until_ms < back)
                back = group->replicas[i].cool_until_ms;
        char reason[256];
        snprintf (reason, sizeof reason,
                  "every base URL of %s is cooling down after repeated failures "
                  "(next try in %lld ms)", group->name,
                  (long long) (back > now ? back - now : 0));
        /* Detach the queue first: a callback may submit to this group. */
        s_list_t failing = group->queue;
        memset (&group->queue, 0, sizeof group->queue);
        s_request_t *request;
        while ((request = failing.head)) {
            s_list_remove (&failing, request);
            s_finish (self, request, TOA_HTTP_FAIL, true, NULL, reason);
        }
    }
}

/* Moves retries whose backoff ended to the front of their group's queue. */
static void
s_wake_delayed (toa_http_t *self, int64_t now)
{
    s_request_t *request = self->delayed.head;
    while (request) {
        s_request_t *next = request->next;
        if (request->not_before_ms <= now) {
            s_list_remove (&self->delayed, request);
            request->state = S_QUEUED;
            s_list_push_front (&self->groups[request->group].queue, request);
        }
        request = next;
    }
}

int
toa_http_process (toa_http_t *self, const zmq_pollitem_t *items, size_t n)
{
    if (!self)
        return -1;
    int running = 0, rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].revents)
            continue;
        int mask = ((items[i].revents & ZMQ_POLLIN) ? CURL_CSELECT_IN : 0)
                 | ((items[i].revents & ZMQ_POLLOUT) ? CURL_CSELECT_OUT : 0)
                 | ((items[i].revents & ZMQ_POLLERR) ? CURL_CSELECT_ERR : 0);
        if (curl_multi_socket_action (self->multi, items[i].fd, mask, &running) != CURLM_OK)
            rc = -1;
    }
    for (int round = 0; round < 4; round++) {
        int64_t now = toa_now_ms ();
        if (self->timer_deadline_ms >= 0 && self->timer_deadline_ms <= now) {
            self->timer_deadline_ms = -1;
            if (curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running)
                != CURLM_OK)
                rc = -1;
        }
        s_read_completions (self);
        now = toa_now_ms ();
        s_wake_delayed (self, now);
        for (size_t g = 0; g < self->n_groups; g++)
            s_dispatch (self, (int) g, now);
        s_fail_cold_groups (self, now);
        /* new transfers ask for an immediate timeout: start them now */
        if (self->timer_deadline_ms < 0 || self->timer_deadline_ms > toa_now_ms ())
            break;
    }
    return rc;
}

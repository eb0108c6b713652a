/* redact.c - excerpts of outside bodies, scrubbed of secrets (see redact.h). */
#include "common/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char **s_secrets;
static size_t s_n_secrets;

int
toa_redact_add (const char *secret)
{
    if (!secret || strlen (secret) < TOA_REDACT_MIN_SECRET)
        return 0;
    for (size_t i = 0; i < s_n_secrets; i++)
        if (strcmp (s_secrets[i], secret) == 0)
            return 0;
    char **secrets = realloc (s_secrets, (s_n_secrets + 1) * sizeof *secrets);
    if (!secrets)
        return -1;
    s_secrets = secrets;
    s_secrets[s_n_secrets] = strdup (secret);
    if (!s_secrets[s_n_secrets])
        return -1;
    s_n_secrets++;
    return 0;
}

int
toa_redact_add_config (const toa_config_t *config)
{
    if (!config)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < config->n_models; i++)
        rc |= toa_redact_add (toa_config_api_key (config->models[i].api_key_env));
    rc |= toa_redact_add (toa_config_api_key (config->reward.api_key_env));
    /* The program reports a password it cannot read itself: not here. */
    char *password = NULL;
    toa_errors_t errors = TOA_ERRORS_INIT;
    if (toa_config_redis_password (config, &password, &errors) == 0 && password) {
        rc |= toa_redact_add (password);
        memset (password, 0, strlen (password));
    }
    free (password);
    toa_errors_clear (&errors);
    return rc ? -1 : 0;
}

void
toa_redact_reset (void)
{
    for (size_t i = 0; i < s_n_secrets; i++) {
        memset (s_secrets[i], 0, strlen (s_secrets[i]));
        free (s_secrets[i]);
    }
    free (s_secrets);
    s_secrets = NULL;
    s_n_secrets = 0;
}

static bool
s_token_char (char c)
{
    return isalnum ((unsigned char) c) || strchr ("-._~+/=", c) != NULL;
}

/* The length of the token at TEXT (at most END). */
static size_t
s_token (const char *text, const char *end)
{
    size_t n = 0;
    while (text + n < end && s_token_char (text[n]))
        n++;
    return n;
}

/* Appends what replaces a credential of LENGTH bytes: never longer than it. */
static size_t
s_hide (char *out, size_t length)
{
    const char *mark = length >= 8 ? "(hidden)" : length >= 3 ? "***" : NULL;
    if (!mark) {
        memset (out, '*', length);
        return length;
    }
    memcpy (out, mark, strlen (mark));
    return strlen (mark);
}

/* Scrubs IN (LENGTH bytes) into OUT (LENGTH + 1 bytes). Returns OUT's length. */
static size_t
s_scrub (const char *in, size_t length, char *out)
{
    const char *end = in + length;
    size_t used = 0;
    for (const char *at = in; at < end;) {
        size_t left = (size_t) (end - at);
        bool matched = false;
        for (size_t i = 0; i < s_n_secrets && !matched; i++) {
            size_t n = strlen (s_secrets[i]);
            if (n <= left && memcmp (at, s_secrets[i], n) == 0) {
                used += s_hide (out + used, n);
                at += n;
                matched = true;
            }
        }
        if (matched)
            continue;
        bool boundary = at == in || !isalnum ((unsigned char) at[-1]);
        if (boundary && left > 7 && strncasecmp (at, "bearer", 6) == 0
            && (at[6] == ' ' || at[6] == '\t')) {
            size_t skip = 6;
            while (at + skip < end && (at[skip] == ' ' || at[skip] == '\t'))
                skip++;
            size_t n = s_token (at + skip, end);
            if (n >= 3) {
                memcpy (out + used, at, skip);
                used += skip;
                used += s_hide (out + used, n);
                at += skip + n;
                continue;
            }
        }
        if (boundary && left > 3 && strncmp (at, "sk-", 3) == 0) {
            size_t n = s_token (at + 3, end);
            if (n >= 8) {
                memcpy (out + used, "sk-", 3);
                used += 3;
                used += s_hide (out + used, n);
                at += 3 + n;
                continue;
            }
        }
        out[used++] = *at++;
    }
    out[used] = 0;
    return used;
}

void
toa_redact_scrub (char *text)
{
    if (!text)
        return;
    size_t length = strlen (text);
    char *copy = malloc (length + 1);
    if (!copy) {
        /* No memory to scrub with: hide everything rather than leak. */
        s_hide (text, length);
        text[length < 8 ? length : 8] = 0;
        return;
    }
    s_scrub (text, length, copy);
    memcpy (text, copy, strlen (copy) + 1);
    free (copy);
}

char *
toa_redact_excerpt (const char *text, size_t length, char *out, size_t size)
{
    if (!out || size == 0)
        return out;
    out[0] = 0;
    if (!text || length == 0)
        return out;
    /* Scrub a window a little longer than the excerpt, so that a secret
     * that starts inside the excerpt is seen whole. */
    size_t longest = 64;
    for (size_t i = 0; i < s_n_secrets; i++)
        if (strlen (s_secrets[i]) > longest)
            longest = strlen (s_secrets[i]);
    size_t window = length < TOA_REDACT_EXCERPT + longest + 8 ? length
                                                               : TOA_REDACT_EXCERPT + longest + 8;
    char *scrubbed = malloc (window + 1);
    if (!scrubbed) {
        snprintf (out, size, "(reply not shown: out of memory)");
        return out;
    }
    size_t n = s_scrub (text, window, scrubbed);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) scrubbed[i] < 0x20 || scrubbed[i] == 0x7f)
            scrubbed[i] = ' ';
    bool cut = n > TOA_REDACT_EXCERPT || window < length;
    size_t keep = n > TOA_REDACT_EXCERPT ? TOA_REDACT_EXCERPT : n;
    if (keep > size - 1) {
        keep = size - 1;
        cut = true;
    }
    bool dots = cut && size >= 4;
    if (dots && keep > size - 4)
        keep = size - 4;
    while (keep > 0 && keep < n && ((unsigned char) scrubbed[keep] & 0xc0) == 0x80)
        keep--;                              /* not in the middle of a character */
    memcpy (out, scrubbed, keep);
    out[keep] = 0;
    if (dots)
        strcpy (out + keep, "...");
    free (scrubbed);
    return out;
}

char *
toa_redact_excerpt_dup (const char *text, size_t length)
{
    char *out = malloc (TOA_REDACT_EXCERPT + 4);
    return out ? toa_redact_excerpt (text, length, out, TOA_REDACT_EXCERPT + 4) : NULL;
}

/* prompts.c - checking, reading and converting the input JSONL of prompts
 * (see prompts.h for the rules). */
#include "common/prompts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"

struct toa_prompt_checker_s {
    json_t *seen;            /* id text -> line number of its first use */
};

/* The reasons of one line, joined by "; ". */
typedef struct {
    char *out;
    size_t size;
    size_t used;
    int count;
} s_reasons_t;

static void
s_reason (s_reasons_t *reasons, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_reason (s_reasons_t *reasons, const char *fmt, ...)
{
    if (reasons->count++ > 0 && reasons->used + 1 < reasons->size) {
        int wrote = snprintf (reasons->out + reasons->used,
                              reasons->size - reasons->used, "; ");
        reasons->used += wrote > 0 ? (size_t) wrote : 0;
        if (reasons->used >= reasons->size) {
            reasons->used = reasons->size - 1;
            return;
        }
    }
    if (reasons->used + 1 >= reasons->size)
        return;              /* no room left: counted, not written */
    va_list args;
    va_start (args, fmt);
    int wrote = vsnprintf (reasons->out + reasons->used,
                           reasons->size - reasons->used, fmt, args);
    va_end (args);
    reasons->used += wrote > 0 ? (size_t) wrote : 0;
    if (reasons->used >= reasons->size)
        reasons->used = reasons->size - 1;
}

toa_prompt_checker_t *
toa_prompt_checker_new (void)
{
    toa_prompt_checker_t *self = calloc (1, sizeof *self);
    if (self && !(self->seen = json_object ()))
        toa_prompt_checker_destroy (&self);
    return self;
}

void
toa_prompt_checker_destroy (toa_prompt_checker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    json_decref ((*self_p)->seen);
    free (*self_p);
    *self_p = NULL;
}

const char *
toa_prompt_id_text (const json_t *prompt, char *buffer, size_t size)
{
    const json_t *id = json_object_get (prompt, "id");
    if (json_is_integer (id))
        snprintf (buffer, size, "%lld", (long long) json_integer_value (id));
    else if (json_is_string (id) && json_string_length (id) > 0
             && json_string_length (id) < size)
        memcpy (buffer, json_string_value (id), json_string_length (id) + 1);
    else
        return NULL;
    return buffer;
}

int
toa_prompt_checker_add (toa_prompt_checker_t *self, const json_t *prompt,
                        size_t line_no, char *reason, size_t size)
{
    char text[TOA_PROMPTS_MAX_ID + 1], shown[96];
    if (!toa_prompt_id_text (prompt, text, sizeof text)) {
        snprintf (reason, size, "id: missing or not valid");
        return -1;
    }
    json_t *first = json_object_get (self->seen, text);
    if (first) {
        snprintf (reason, size, "id: duplicate id %s (first on line %lld)",
                  toa_json_show (json_object_get (prompt, "id"), shown, sizeof shown),
                  (long long) json_integer_value (first));
        return -1;
    }
    if (json_object_set_new (self->seen, text, json_integer ((json_int_t) line_no)) != 0) {
        snprintf (reason, size, "id: out of memory");
        return -1;
    }
    return 0;
}

static void
s_check_id (const json_t *prompt, s_reasons_t *reasons)
{
    const json_t *id = json_object_get (prompt, "id");
    char shown[96];
    if (!id) {
        s_reason (reasons, "id: required field missing");
        return;
    }
    if (json_is_integer (id))
        return;
    if (!json_is_string (id)) {
        s_reason (reasons, "id: must be a string or an integer, got %s",
                  toa_json_show (id, shown, sizeof shown));
        return;
    }
    size_t length = json_string_length (id);
    const unsigned char *text = (const unsigned char *) json_string_value (id);
    if (length == 0)
        s_reason (reasons, "id: must not be empty");
    else if (length > TOA_PROMPTS_MAX_ID)
        s_reason (reasons, "id: must be at most %d bytes, got %zu", TOA_PROMPTS_MAX_ID,
                  length);
    else
        for (size_t i = 0; i < length; i++)
            if (text[i] < 0x20 || text[i] == 0x7f) {
                s_reason (reasons, "id: must not contain control characters");
                break;
            }
}

static void
s_check_messages (const json_t *messages, s_reasons_t *reasons)
{
    char shown[96];
    if (!json_is_array (messages) || json_array_size (messages) == 0) {
        s_reason (reasons, "messages: must be a non-empty array, got %s",
                  json_is_array (messages) ? "[]"
                                           : toa_json_show (messages, shown, sizeof shown));
        return;
    }
    size_t n = json_array_size (messages);
    bool good = true;
    for (size_t i = 0; i < n; i++) {
        const json_t *message = json_array_get (messages, i);
        if (!json_is_object (message)) {
            s_reason (reasons, "messages[%zu]: must be an object, got %s", i,
                      toa_json_show (message, shown, sizeof shown));
            good = false;
            continue;
        }
        const json_t *role = json_object_get (message, "role");
        const char *name = json_string_value (role);
        if (!name || (strcmp (name, "system") && strcmp (name, "user")
                      && strcmp (name, "assistant"))) {
            s_reason (reasons, "messages[%zu].role: must be \"system\", \"user\" or "
                      "\"assistant\", got %s", i,
                      role ? toa_json_show (role, shown, sizeof shown) : "nothing");
            good = false;
        }
        const json_t *content = json_object_get (message, "content");
        if (!json_is_string (content)) {
            s_reason (reasons, "messages[%zu].content: must be a string, got %s", i,
                      content ? toa_json_show (content, shown, sizeof shown) : "nothing");
            good = false;
        }
    }
    if (!good)
        return;
    const json_t *last = json_array_get (messages, n - 1);
    const char *role = json_string_value (json_object_get (last, "role"));
    if (strcmp (role, "user") != 0)
        s_reason (reasons, "messages: the last message must be from the user, got "
                  "role \"%s\"", role);
    else if (json_string_length (json_object_get (last, "content")) == 0)
        s_reason (reasons, "messages[%zu].content: the user's question must not be "
                  "empty", n - 1);
}

/* Checks a parsed line; the reasons go to REASONS. */
static void
s_check_prompt (const json_t *prompt, s_reasons_t *reasons)
{
    char shown[96];
    s_check_id (prompt, reasons);
    const json_t *instruction = json_object_get (prompt, "instruction");
    const json_t *messages = json_object_get (prompt, "messages");
    if (instruction && messages)
        s_reason (reasons, "has both \"instruction\" and \"messages\"; give one");
    else if (!instruction && !messages)
        s_reason (reasons, "needs \"instruction\" (a string) or \"messages\" "
                  "(an array of chat messages)");
    else if (instruction && (!json_is_string (instruction)
                             || json_string_length (instruction) == 0))
        s_reason (reasons, "instruction: must be a non-empty string, got %s",
                  toa_json_show (instruction, shown, sizeof shown));
    else if (messages)
        s_check_messages (messages, reasons);
}

static bool
s_blank (const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            return false;
    return true;
}

int
toa_prompts_validate_line (const char *text, size_t length, size_t line_no,
                           toa_prompt_checker_t *checker, json_t **prompt,
                           char *reason, size_t size)
{
    s_reasons_t reasons = {reason, size, 0, 0};
    if (size)
        *reason = '\0';
    *prompt = NULL;
    if (length > 0 && text[length - 1] == '\n')
        length--;
    if (length > 0 && text[length - 1] == '\r')
        length--;
    if (length > TOA_PROMPTS_MAX_LINE) {
        s_reason (&reasons, "the line is longer than 16 MiB (%zu bytes)", length);
        return -1;
    }
    if (s_blank (text, length))
        return 0;
    json_error_t error;
    json_t *object = json_loadb (text, length, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                                 &error);
    if (!object) {
        s_reason (&reasons, "JSON syntax error at column %d: %s", error.column, error.text);
        return -1;
    }
    if (!json_is_object (object)) {
        char shown[96];
        s_reason (&reasons, "must be a JSON object, got %s",
                  toa_json_show (object, shown, sizeof shown));
        json_decref (object);
        return -1;
    }
    s_check_prompt (object, &reasons);
    if (reasons.count == 0 && checker
        && toa_prompt_checker_add (checker, object, line_no, reason, size) != 0)
        reasons.count++;
    if (reasons.count > 0) {
        json_decref (object);
        return -1;
    }
    *prompt = object;
    return 1;
}

/* Appends a line to FILE's list. Returns 0 or -1 when out of memory. */
static int
s_add_line (toa_prompt_file_t *file, size_t *capacity, size_t line_no,
            const char *text, size_t length)
{
    if (file->count == *capacity) {
        size_t bigger = *capacity ? *capacity * 2 : 256;
        toa_prompt_file_line_t *lines = realloc (file->lines, bigger * sizeof *lines);
        if (!lines)
            return -1;
        file->lines = lines;
        *capacity = bigger;
    }
    file->lines[file->count++] = (toa_prompt_file_line_t) {line_no, text, length};
    return 0;
}

toa_prompt_file_t *
toa_prompts_read_file (const char *path, toa_errors_t *errors)
{
    size_t size = 0;
    char *buffer = toa_read_file (path, &size);
    if (!buffer) {
        toa_errors_add (errors, "%s: cannot read: %s", path, strerror (errno));
        return NULL;
    }
    toa_prompt_file_t *file = calloc (1, sizeof *file);
    toa_prompt_checker_t *checker = toa_prompt_checker_new ();
    if (!file || !checker) {
        toa_errors_add (errors, "%s: out of memory", path);
        free (file);
        free (buffer);
        toa_prompt_checker_destroy (&checker);
        return NULL;
    }
    file->buffer = buffer;
    size_t capacity = 0, line_no = 0, bad = 0;
    char *cursor = buffer, *end = buffer + size;
    if (size >= 3 && memcmp (buffer, "\xEF\xBB\xBF", 3) == 0)
        cursor += 3;         /* a UTF-8 byte order mark */
    while (cursor < end) {
        line_no++;
        char *newline = memchr (cursor, '\n', (size_t) (end - cursor));
        char *line_end = newline ? newline : end;
        size_t length = (size_t) (line_end - cursor);
        if (length > 0 && cursor[length - 1] == '\r')
            length--;
        cursor[length] = '\0';
        char reason[1024];
        json_t *prompt = NULL;
        int rc = toa_prompts_validate_line (cursor, length, line_no, checker, &prompt,
                                            reason, sizeof reason);
        if (rc < 0) {
            bad++;
            toa_errors_add (errors, "%s:%zu: %s", path, line_no, reason);
        }
        else if (rc > 0) {
            json_decref (prompt);
            if (s_add_line (file, &capacity, line_no, cursor, length) != 0) {
                toa_errors_add (errors, "%s:%zu: out of memory", path, line_no);
                bad++;
                break;
            }
        }
        cursor = line_end + 1;
    }
    toa_prompt_checker_destroy (&checker);
    if (bad == 0 && file->count == 0) {
        toa_errors_add (errors, "%s: no prompts (the file is empty or has only blank "
                        "lines)", path);
        bad++;
    }
    if (bad > 0)
        toa_prompt_file_destroy (&file);
    return file;
}

void
toa_prompt_file_destroy (toa_prompt_file_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->lines);
    free ((*self_p)->buffer);
    free (*self_p);
    *self_p = NULL;
}

const char *
toa_prompt_question (const json_t *prompt)
{
    const char *instruction = json_string_value (json_object_get (prompt, "instruction"));
    if (instruction)
        return instruction;
    const json_t *messages = json_object_get (prompt, "messages");
    for (size_t i = json_array_size (messages); i-- > 0;) {
        const json_t *message = json_array_get (messages, i);
        const char *role = json_string_value (json_object_get (message, "role"));
        if (role && strcmp (role, "user") == 0)
            return json_string_value (json_object_get (message, "content"));
    }
    return NULL;
}

/* Appends {"role": ROLE, "content": CONTENT} to ARRAY. Returns 0 or -1. */
static int
s_append_message (json_t *array, const char *role, const char *content)
{
    json_t *message = json_pack ("{s:s, s:s}", "role", role, "content", content);
    return message ? json_array_append_new (array, message) : -1;
}

json_t *
toa_prompt_messages (const json_t *prompt, const char *system_text)
{
    const char *instruction = json_string_value (json_object_get (prompt, "instruction"));
    const json_t *messages = json_object_get (prompt, "messages");
    if (!instruction && !json_is_array (messages))
        return NULL;
    json_t *out = json_array ();
    if (!out)
        return NULL;
    const char *first_role = json_string_value (
        json_object_get (json_array_get (messages, 0), "role"));
    bool own_system = !instruction && first_role && strcmp (first_role, "system") == 0;
    int rc = 0;
    if (system_text && !own_system)
        rc = s_append_message (out, "system", system_text);
    if (instruction)
        rc = rc ? rc : s_append_message (out, "user", instruction);
    else
        for (size_t i = 0; rc == 0 && i < json_array_size (messages); i++) {
            const json_t *message = json_array_get (messages, i);
            const char *role = json_string_value (json_object_get (message, "role"));
            const char *content = json_string_value (json_object_get (message, "content"));
            rc = role && content ? s_append_message (out, role, content) : -1;
        }
    if (rc != 0)
        json_decref (out);
    return rc == 0 ? out : NULL;
}

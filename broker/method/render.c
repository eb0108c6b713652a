/* render.c - generation task messages from plans and templates (see render.h). */
#include "broker/method/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int
toa_chat_list_add (toa_chat_list_t *self, const char *role, const char *content)
{
    toa_chat_message_t *items = realloc (self->items, (self->count + 1) * sizeof *items);
    if (!items)
        return -1;
    self->items = items;
    char *role_copy = strdup (role ? role : "user");
    char *content_copy = strdup (content ? content : "");
    if (!role_copy || !content_copy) {
        free (role_copy);
        free (content_copy);
        return -1;
    }
    items[self->count].role = role_copy;
    items[self->count].content = content_copy;
    self->count++;
    return 0;
}

void
toa_chat_list_clear (toa_chat_list_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free (self->items[i].role);
        free (self->items[i].content);
    }
    free (self->items);
    self->items = NULL;
    self->count = 0;
}

int
toa_chat_list_copy (toa_chat_list_t *out, const toa_chat_list_t *source)
{
    toa_chat_list_clear (out);
    for (size_t i = 0; i < source->count; i++)
        if (toa_chat_list_add (out, source->items[i].role, source->items[i].content) != 0) {
            toa_chat_list_clear (out);
            return -1;
        }
    return 0;
}

/* The text of response INDEX, or NULL (with ERR) when it has none. */
static const char *
s_input_text (int index, const toa_gen_record_t *records, size_t n_records, char *err,
              size_t err_size)
{
    if (index < 0 || (size_t) index >= n_records || !records[index].text) {
        snprintf (err, err_size, "plan input %d is not a generated response", index);
        return NULL;
    }
    return records[index].text;
}

/* "Response 1:\n...\n\nResponse 2:\n..." for the aggregate template. */
static char *
s_numbered (const toa_gen_plan_t *plan, const toa_gen_record_t *records, size_t n_records,
            char *err, size_t err_size)
{
    size_t size = 1;
    for (int i = 0; i < plan->n_inputs; i++) {
        const char *text = s_input_text (plan->inputs[i], records, n_records, err, err_size);
        if (!text)
            return NULL;
        size += strlen (text) + 32;
    }
    char *out = malloc (size);
    if (!out) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < plan->n_inputs; i++)
        used += (size_t) snprintf (out + used, size - used, "%sResponse %d:\n%s",
                                   i ? "\n\n" : "", i + 1, records[plan->inputs[i]].text);
    return out;
}

static bool
s_has_system (const toa_chat_list_t *prompt)
{
    for (size_t i = 0; i < prompt->count; i++)
        if (strcmp (prompt->items[i].role, "system") == 0)
            return true;
    return false;
}

static int
s_render_template (const toa_job_settings_t *settings, const char *question,
                   const toa_gen_plan_t *plan, const toa_gen_record_t *records,
                   size_t n_records, toa_chat_list_t *out, char *err, size_t err_size)
{
    char *responses = NULL;
    const char *names[2] = {"question", "response"};
    const char *values[2] = {question, NULL};
    const char *template_text = settings->refine;
    if (plan->kind == TOA_GEN_REFINE) {
        if (plan->n_inputs < 1) {
            snprintf (err, err_size, "refine plan without an input");
            return -1;
        }
        values[1] = s_input_text (plan->inputs[0], records, n_records, err, err_size);
        if (!values[1])
            return -1;
    }
    else {
        names[1] = "responses";
        template_text = settings->aggregate;
        responses = s_numbered (plan, records, n_records, err, err_size);
        if (!responses)
            return -1;
        values[1] = responses;
    }
    char *content = toa_template_render (template_text, names, values, 2);
    int rc = content ? toa_chat_list_add (out, "user", content) : -1;
    if (rc != 0)
        snprintf (err, err_size, "out of memory");
    free (content);
    free (responses);
    return rc;
}

int
toa_render_generation (const toa_job_settings_t *settings, const toa_chat_list_t *prompt,
                       const char *question, const toa_gen_plan_t *plan,
                       const toa_gen_record_t *records, size_t n_records,
                       toa_chat_list_t *out, char *err, size_t err_size)
{
    toa_chat_list_clear (out);
    bool prompt_system = plan->kind == TOA_GEN_ANSWER && s_has_system (prompt);
    if (settings->system && !prompt_system
        && toa_chat_list_add (out, "system", settings->system) != 0)
        goto nomem;
    if (plan->kind == TOA_GEN_ANSWER) {
        for (size_t i = 0; i < prompt->count; i++)
            if (toa_chat_list_add (out, prompt->items[i].role, prompt->items[i].content) != 0)
                goto nomem;
        return 0;
    }
    if (s_render_template (settings, question, plan, records, n_records, out, err, err_size)
        == 0)
        return 0;
    toa_chat_list_clear (out);
    return -1;
nomem:
    toa_chat_list_clear (out);
    snprintf (err, err_size, "out of memory");
    return -1;
}

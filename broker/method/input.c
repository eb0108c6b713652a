/* input.c - prompt input lines for the broker, over common/prompts.h (see input.h). */
#include "broker/method/input.h"

#include <stdlib.h>

#include "common/prompts.h"

struct toa_input_checker_s {
    toa_prompt_checker_t *checker;
};

toa_input_checker_t *
toa_input_checker_new (void)
{
    toa_input_checker_t *self = calloc (1, sizeof *self);
    if (self && !(self->checker = toa_prompt_checker_new ())) {
        free (self);
        self = NULL;
    }
    return self;
}

void
toa_input_checker_destroy (toa_input_checker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_prompt_checker_destroy (&(*self_p)->checker);
    free (*self_p);
    *self_p = NULL;
}

int
toa_input_check (toa_input_checker_t *self, const char *text, size_t length, size_t line_no,
                 json_t **prompt, char *reason, size_t size)
{
    return toa_prompts_validate_line (text, length, line_no, self ? self->checker : NULL,
                                      prompt, reason, size);
}

const char *
toa_input_question (const json_t *prompt)
{
    return toa_prompt_question (prompt);
}

json_t *
toa_input_messages (const json_t *prompt)
{
    return toa_prompt_messages (prompt, NULL);
}

const char *
toa_input_id (const json_t *prompt, char *buffer, size_t size)
{
    return toa_prompt_id_text (prompt, buffer, size);
}

/* input.c - the prompt file a submit sends (see input.h). */
#include "client/input.h"

#include <stdlib.h>

#include "common/prompts.h"

struct toa_input_s {
    toa_prompt_file_t *file;
};

toa_input_t *
toa_input_read (const char *path, toa_errors_t *errors)
{
    toa_prompt_file_t *file = toa_prompts_read_file (path, errors);
    if (!file)
        return NULL;
    toa_input_t *self = calloc (1, sizeof *self);
    if (!self) {
        toa_errors_add (errors, "%s: out of memory", path);
        toa_prompt_file_destroy (&file);
        return NULL;
    }
    self->file = file;
    return self;
}

void
toa_input_destroy (toa_input_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    toa_prompt_file_destroy (&(*self_p)->file);
    free (*self_p);
    *self_p = NULL;
}

size_t
toa_input_count (const toa_input_t *self)
{
    return self->file->count;
}

size_t
toa_input_line_no (const toa_input_t *self, size_t index)
{
    return self->file->lines[index].line_no;
}

const char *
toa_input_text (const toa_input_t *self, size_t index)
{
    return self->file->lines[index].text;
}

/* fuzz_input.c - libFuzzer target: input JSONL as a submission brings it.
 * Each line of the input goes through the client's check
 * (toa_prompts_validate_line with a duplicate checker) and the broker's
 * (toa_input_check); a line both accept gives its question, messages and id.
 * Both must agree on which lines are prompts. */
#include <jansson.h>

#include "broker/method/input.h"
#include "common/prompts.h"
#include "fuzz.h"

static void
s_use (const json_t *prompt)
{
    char id[300];
    fuzz_check (toa_input_id (prompt, id, sizeof id) != NULL, "fuzz_input",
                "an accepted prompt without an id");
    json_t *messages = toa_input_messages (prompt);
    fuzz_check (json_is_array (messages) && json_array_size (messages) > 0, "fuzz_input",
                "an accepted prompt without messages");
    json_decref (messages);
    (void) toa_input_question (prompt);
    (void) toa_prompt_question (prompt);
    json_t *with_system = toa_prompt_messages (prompt, "be brief");
    json_decref (with_system);
    char buffer[300];
    (void) toa_prompt_id_text (prompt, buffer, sizeof buffer);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    toa_prompt_checker_t *client = toa_prompt_checker_new ();
    toa_input_checker_t *broker = toa_input_checker_new ();
    if (!client || !broker)
        abort ();
    const char *text = (const char *) data;
    size_t line_no = 0;
    for (size_t start = 0; start < size;) {
        const char *end = memchr (text + start, '\n', size - start);
        size_t length = end ? (size_t) (end - (text + start)) : size - start;
        line_no++;
        char reason[512];
        json_t *a = NULL, *b = NULL;
        int rc_client = toa_prompts_validate_line (text + start, length, line_no, client, &a,
                                                   reason, sizeof reason);
        int rc_broker = toa_input_check (broker, text + start, length, line_no, &b, reason,
                                         sizeof reason);
        fuzz_check (rc_client == rc_broker, "fuzz_input",
                    "the client and the broker disagree on a line");
        if (rc_client == 1)
            s_use (a);
        if (rc_broker == 1)
            s_use (b);
        json_decref (a);
        json_decref (b);
        start += length + 1;
    }
    toa_prompt_checker_destroy (&client);
    toa_input_checker_destroy (&broker);
    return 0;
}

/* defaults.c - the job defaults that are not plain numbers (see defaults.h). */
#include "common/defaults.h"

#include <string.h>

const char *
toa_default_reference_field (const char *backend)
{
    if (backend && strcmp (backend, "math-verify") == 0)
        return "gold_answer";
    if (backend && strcmp (backend, "chrf") == 0)
        return "en";
    return NULL;
}

const char toa_default_refine_template[] =
    "Below is a question and an earlier answer to it.\n"
    "\n"
    "Question:\n"
    "{question}\n"
    "\n"
    "Earlier answer:\n"
    "{response}\n"
    "\n"
    "Write an improved, complete answer to the question. Check the earlier "
    "answer step by step, keep what is right and fix what is wrong. Answer "
    "the question directly, without mentioning the earlier answer, and end "
    "with the final answer in the same format as the earlier answer.";

const char toa_default_aggregate_template[] =
    "You have been provided with a set of responses from various models to "
    "the latest user query. Your task is to synthesize these responses into "
    "a single, high-quality response. It is crucial to critically evaluate "
    "the information provided in these responses, recognizing that some of "
    "it may be biased or incorrect. Your response should not simply "
    "replicate the given answers but should offer a refined, accurate, and "
    "comprehensive reply to the query. Ensure your response is "
    "well-structured, coherent, and adheres to the highest standards of "
    "accuracy and reliability.\n"
    "\n"
    "Responses from models:\n"
    "{responses}\n"
    "\n"
    "User query:\n"
    "{question}";

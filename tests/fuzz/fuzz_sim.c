/* fuzz_sim.c - libFuzzer target: the HTTP requests toa-simllm answers
 * (toa_sim_service_handle: routing, the chat body parser toa_sim_chat_parse,
 * the reward endpoints' bodies, X-Sim-Fault). Input: a byte that picks the
 * method and path, a line with the X-Sim-Fault value (empty: none), then the
 * body. Every request not dropped (a hang) gets a status and a body. */
#include "common/config.h"
#include "common/errors.h"
#include "fuzz.h"
#include "sim/chat.h"
#include "sim/knowledge.h"
#include "sim/service.h"

static toa_config_t *s_config;
static toa_sim_knowledge_t *s_knowledge;
static toa_sim_service_t *s_service;

static void
s_setup (void)
{
    if (s_service)
        return;
    static const char text[] =
        "{\"simllm\": {\"models\": ["
        "{\"model_id\": \"sim-a\", \"latency_ms\": 1, \"math_skill\": 0.5,"
        " \"faults\": {\"http_500\": 0.1, \"http_429\": 0.1, \"malformed\": 0.1}},"
        "{\"model_id\": \"sim-b\", \"latency_ms\": 1}]}}";
    toa_errors_t errors = TOA_ERRORS_INIT;
    s_config = toa_config_parse (text, "fuzz_sim", NULL, 0, &errors);
    if (!s_config)
        toa_errors_print (&errors, stderr);
    toa_errors_clear (&errors);
    fuzz_check (s_config != NULL, "fuzz_sim", "the fixed config does not parse");
    s_knowledge = toa_sim_knowledge_new ();
    toa_sim_knowledge_add (s_knowledge, "What is 2 + 3?", "5", NULL, "fuzz");
    toa_sim_knowledge_add (s_knowledge, "Translate: Guten Morgen", NULL, "Good morning", "fuzz");
    s_service = toa_sim_service_new (&s_config->sim, s_knowledge, 42);
    fuzz_check (s_service != NULL, "fuzz_sim", "no service");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const char *const routes[][2] = {
        {"POST", "/v1/chat/completions"}, {"POST", "/reward"}, {"POST", "/classify"},
        {"POST", "/pooling"}, {"POST", "/v1/pooling"}, {"GET", "/v1/models"},
        {"GET", "/health"}, {"POST", "/get_reward"}, {"GET", "/stats"},
        {"PUT", "/v1/chat/completions"}, {"POST", "/v1/chat/completions?x=1"},
        {"POST", "/nowhere"},
    };
    if (size < 1)
        return 0;
    s_setup ();
    const char *const *route = routes[data[0] % (sizeof routes / sizeof routes[0])];
    char *text = fuzz_text (data + 1, size - 1);
    char *body = fuzz_split (text, '\n');
    size_t length = size - 1 - (size_t) (body - text);
    if (body == text + strlen (text))
        length = 0;
    const char *fault = text[0] ? text : NULL;
    toa_sim_reply_t reply;
    memset (&reply, 0, sizeof reply);
    if (toa_sim_service_handle (s_service, route[0], route[1], body, length, fault, &reply) == 0) {
        fuzz_check (reply.drop || (reply.status >= 100 && reply.status < 600), "fuzz_sim",
                    "no HTTP status");
        fuzz_check (reply.drop || reply.body != NULL || reply.status == 204, "fuzz_sim",
                    "an answer without a body");
        toa_sim_service_done (s_service, &reply);
    }
    toa_sim_reply_clear (&reply);
    /* The chat parser alone, on the whole input. */
    toa_sim_chat_request_t request;
    memset (&request, 0, sizeof request);
    char error[256];
    if (toa_sim_chat_parse ((const char *) data, size, &request, error, sizeof error) == 0)
        toa_sim_chat_request_clear (&request);
    free (text);
    return 0;
}

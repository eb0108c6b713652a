/* main.c - toa-scorer: the stateless scoring worker. Reads the fleet's
 * config, connects to the broker, scores responses with the reward backend
 * of the config's reward section. Exit status: 0 after an orderly stop
 * (SIGTERM/SIGINT), 1 on a runtime failure, 2 on bad arguments or
 * configuration (common/peer_program). */
#include <signal.h>

#include "peer/peer_program.h"
#include "scorer/scorer.h"

static const char s_usage[] =
    "Usage: toa-scorer --config FILE [options]\n"
    "Scoring worker: takes score tasks from the broker, scores each response with the\n"
    "reward backend of the config's \"reward\" section (http-reward, vllm-classify,\n"
    "vllm-pooling, llm-judge, math-verify, chrf), sends back rewards or failures.\n"
    "\n"
    "  --config FILE          the fleet's JSON config (required)\n"
    "  --set PATH=VALUE       override a config field, e.g. --set reward.batch_size=8\n"
    "  --backend NAME         serve this backend (same as --set reward.backend=NAME)\n"
    "  --max-tasks N          credit announced to the broker (default scorer.max_tasks)\n"
    "  --endpoint URL         broker endpoint (default broker.worker_endpoint)\n"
    "  --name NAME            name shown in the broker's logs (default host:pid)\n"
    "  --log-level LEVEL      error, warn, info (default) or debug\n"
    "  --grace-ms N           on SIGTERM, time to finish calls in flight (default 10000)\n"
    "  --reconnect-min-ms N   first reconnection back-off (default 1000)\n"
    "  --reconnect-max-ms N   reconnection back-off cap (default 32000)\n"
    "  --retry-base-ms N      first HTTP retry back-off (default 500)\n"
    "  --retry-max-ms N       HTTP retry back-off cap (default 30000)\n"
    "  --cooldown-ms N        first cool-down of a failing server (default 5000)\n"
    "  --help                 this text\n";

static void *
s_create (void *arg, const toa_config_t *config, const toa_peer_loop_options_t *loop,
          toa_errors_t *errors)
{
    (void) arg;
    toa_scorer_options_t options = {.config = config, .loop = *loop};
    return toa_scorer_new (&options, errors);
}

static int
s_run (void *scorer, volatile sig_atomic_t *stop)
{
    return toa_scorer_run (scorer, stop);
}

static void
s_destroy (void *scorer)
{
    toa_scorer_t *self = scorer;
    toa_scorer_destroy (&self);
}

int
main (int argc, char **argv)
{
    /* --backend wins over any --set reward.backend */
    static const toa_peer_program_alias_t aliases[] = {{"--backend", "reward.backend"}};
    toa_peer_program_t program = {
        .name = "toa-scorer",
        .usage = s_usage,
        .aliases = aliases,
        .n_aliases = 1,
        .create = s_create,
        .run = s_run,
        .destroy = s_destroy,
    };
    return toa_peer_program_main (&program, argc, argv);
}

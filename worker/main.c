/* main.c - toa-worker: the stateless generation worker. Reads the fleet's
 * config, connects to the broker, calls the OpenAI-compatible servers of the
 * models it serves. Exit status: 0 after an orderly stop (SIGTERM/SIGINT),
 * 1 on a runtime failure, 2 on bad arguments or configuration
 * (common/peer_program). */
#include <signal.h>
#include <stdlib.h>

#include "peer/peer_program.h"
#include "worker/worker.h"

static const char s_usage[] =
    "Usage: toa-worker --config FILE [options]\n"
    "Generation worker: takes tasks from the broker, calls the models' OpenAI-compatible\n"
    "servers, sends back results.\n"
    "\n"
    "  --config FILE          the fleet's JSON config (required)\n"
    "  --set PATH=VALUE       override a config field, e.g. --set worker.max_tasks=8\n"
    "  --model NAME           serve only this model (repeatable; default: all models)\n"
    "  --max-tasks N          credit announced to the broker (default worker.max_tasks)\n"
    "  --endpoint URL         broker endpoint (default broker.worker_endpoint)\n"
    "  --name NAME            name shown in the broker's logs (default host:pid)\n"
    "  --log-level LEVEL      error, warn, info (default) or debug\n"
    "  --grace-ms N           on SIGTERM, time to finish tasks in progress (default 10000)\n"
    "  --reconnect-min-ms N   first reconnection back-off (default 1000)\n"
    "  --reconnect-max-ms N   reconnection back-off cap (default 32000)\n"
    "  --retry-base-ms N      first HTTP retry back-off (default 500)\n"
    "  --retry-max-ms N       HTTP retry back-off cap (default 30000)\n"
    "  --cooldown-ms N        first cool-down of a failing replica (default 5000)\n"
    "  --help                 this text\n";

/* The models named with --model. */
typedef struct {
    const char **names;
    size_t count;
} s_models_t;

static void
s_set_flag (void *arg, const char *flag, const char *value, toa_errors_t *errors)
{
    s_models_t *models = arg;
    (void) flag;                             /* --model, the only one */
    const char **grown = realloc (models->names, (models->count + 1) * sizeof *grown);
    if (!grown) {
        toa_errors_add (errors, "--model: out of memory");
        return;
    }
    grown[models->count++] = value;
    models->names = grown;
}

static void *
s_create (void *arg, const toa_config_t *config, const toa_peer_loop_options_t *loop,
          toa_errors_t *errors)
{
    const s_models_t *models = arg;
    toa_worker_options_t options = {
        .config = config,
        .models = models->names,
        .n_models = models->count,
        .loop = *loop,
    };
    return toa_worker_new (&options, errors);
}

static int
s_run (void *worker, volatile sig_atomic_t *stop)
{
    return toa_worker_run (worker, stop);
}

static void
s_destroy (void *worker)
{
    toa_worker_t *self = worker;
    toa_worker_destroy (&self);
}

int
main (int argc, char **argv)
{
    static const char *const flags[] = {"--model"};
    s_models_t models = {NULL, 0};
    toa_peer_program_t program = {
        .name = "toa-worker",
        .usage = s_usage,
        .flags = flags,
        .n_flags = 1,
        .set_flag = s_set_flag,
        .create = s_create,
        .run = s_run,
        .destroy = s_destroy,
        .arg = &models,
    };
    int status = toa_peer_program_main (&program, argc, argv);
    free (models.names);
    return status;
}

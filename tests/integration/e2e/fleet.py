"""fleet.py - the part every test fleet config shares: free ports on
127.0.0.1 for toa-simllm, a managed Redis, the broker's two endpoints; one
simulated model entry per toa-simllm model. Used by make_config.py and by
the tests that write their own configs (test_servers.sh,
test_second_client.sh: PYTHONPATH=tests/integration/e2e)."""
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fleet_config(run_dir, data_files, sim_models, model_extra=None, broker=None):
    """A config dict: broker endpoints (heartbeat 500 ms, plus BROKER's
    keys), a managed Redis under RUN_DIR/redis, a "models" entry per key of
    SIM_MODELS (simulated, plus MODEL_EXTRA's keys) and toa-simllm serving
    them ({"model_id": name} plus SIM_MODELS[name]) with DATA_FILES. The
    caller adds reward, sampling, method, worker and scorer."""
    sim, redis, client, worker = (free_port() for _ in range(4))
    base = f"http://127.0.0.1:{sim}/v1"
    return {
        "broker": {"client_endpoint": f"tcp://127.0.0.1:{client}",
                   "worker_endpoint": f"tcp://127.0.0.1:{worker}",
                   "heartbeat_ms": 500, **(broker or {})},
        "redis": {"url": f"redis://127.0.0.1:{redis}/0", "managed": True,
                  "data_dir": f"{run_dir}/redis"},
        "models": [{"name": m, "base_url": base, "simulated": True, **(model_extra or {})}
                   for m in sim_models],
        "simllm": {"listen": f"127.0.0.1:{sim}", "data_files": list(data_files), "threads": 2,
                   "models": [{"model_id": m, **spec} for m, spec in sim_models.items()]},
    }

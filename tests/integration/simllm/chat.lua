-- tests/integration/simllm/chat.lua - wrk script: POST one chat completion
-- (model from the SIM_MODEL environment variable, default sim-zero).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "' .. (os.getenv("SIM_MODEL") or "sim-zero") ..
           '", "messages": [{"role": "user", "content": "Say something short."}], "max_tokens": 64}'

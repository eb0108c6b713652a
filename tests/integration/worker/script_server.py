#!/usr/bin/env python3
"""script_server.py - a scripted OpenAI-compatible chat/completions server
for toa-worker's integration tests (python3 stdlib only), for the statuses
and error shapes toa-simllm does not produce.

Usage: script_server.py PORT [PORT...]   (one listener per port, same state)

The request's "model" names a script: "seq:STEP,STEP,..."; attempt k of a
task (a task = same model + same last message + same seed) plays step k,
the last step repeating. Steps:
  ok            200 with n choices ("model|seed|index|prompt" as content)
  NNN           that status with an OpenAI-shaped error body
  flat400       400 with vLLM's flat error shape (context length)
  ra1           429 with "Retry-After: 1"
  radate        429 with Retry-After as an HTTP-date 2 s ahead
  rams300       429 with "retry-after-ms: 300"
  quota         429 insufficient_quota
  hang          no answer for 30 s
  malformed     200 whose body is not JSON
  nochoices     200 JSON without choices
  rejectn       400 "Only one completion choice is allowed" when n > 1, else ok
  ignoren       200 with one choice whatever n is
  sleepNNN      ok after NNN ms
GET /stats answers {"requests": [...every request: model, n, seed,
authorized (true/false), port, client_port (one per
connection), attempt, t...], "count": N}; POST /stats/reset clears.
"""
import email.utils
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ATTEMPTS = {}
REQUESTS = []
API_KEY = "sk-test-SECRET-0123456789"


def error_body(message, etype, code):
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        if self.path.endswith("/stats"):
            with LOCK:
                self.reply(200, {"count": len(REQUESTS), "requests": REQUESTS})
        else:
            self.reply(404, error_body("not found", "invalid_request_error", None))

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.endswith("/stats/reset"):
            with LOCK:
                REQUESTS.clear()
                ATTEMPTS.clear()
            self.reply(200, {"ok": True})
            return
        if not self.path.endswith("/chat/completions"):
            self.reply(404, error_body("no such route " + self.path, "invalid_request_error", None))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.reply(400, error_body("body is not JSON", "invalid_request_error", None))
            return
        model = body.get("model", "")
        n = int(body.get("n", 1))
        seed = body.get("seed")
        last = body.get("messages", [{}])[-1].get("content", "")
        auth = self.headers.get("Authorization")
        key = (model, last, seed)
        with LOCK:
            ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
            attempt = ATTEMPTS[key]
            REQUESTS.append({"model": model, "n": n, "seed": seed, "prompt": last,
                             "authorized": auth == "Bearer " + API_KEY,
                             "stop": body.get("stop"), "max_tokens": body.get("max_tokens"),
                             "port": self.server.server_address[1], "attempt": attempt,
                             "client_port": self.client_address[1],
                             "t": time.time()})
        steps = model.split(":", 1)[1].split(",") if model.startswith("seq:") else ["ok"]
        step = steps[min(attempt, len(steps)) - 1]
        self.play(step, body, n, seed, last)

    def choices(self, body, n, seed, last):
        return [{"index": i, "finish_reason": "stop",
                 "message": {"role": "assistant",
                             "content": "%s|%s|%d|%s" % (body.get("model"), seed, i, last)}}
                for i in range(n)]

    def ok(self, body, n, seed, last):
        self.reply(200, {"id": "chatcmpl-1", "object": "chat.completion",
                         "model": body.get("model"), "choices": self.choices(body, n, seed, last),
                         "usage": {"prompt_tokens": 10, "completion_tokens": 7 * n,
                                   "total_tokens": 10 + 7 * n}})

    def play(self, step, body, n, seed, last):
        if step == "ok":
            self.ok(body, n, seed, last)
        elif step.startswith("sleep") and step[5:].isdigit():
            time.sleep(int(step[5:]) / 1000.0)
            self.ok(body, n, seed, last)
        elif step.isdigit():
            status = int(step)
            self.reply(status, error_body("scripted status %d" % status, "server_error", None))
        elif step == "flat400":
            self.reply(400, {"object": "error", "type": "BadRequestError", "param": None,
                             "code": 400, "message": "This model's maximum context length is "
                             "2048 tokens. However, you requested 4000 tokens."})
        elif step == "ra1":
            self.reply(429, error_body("slow down", "requests", "rate_limit_exceeded"),
                       {"Retry-After": "1"})
        elif step == "radate":
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            self.reply(429, error_body("slow down", "requests", "rate_limit_exceeded"),
                       {"Retry-After": when})
        elif step == "rams300":
            self.reply(429, error_body("slow down", "requests", "rate_limit_exceeded"),
                       {"retry-after-ms": "300"})
        elif step == "quota":
            self.reply(429, error_body("You exceeded your current quota, please check your plan",
                                       "insufficient_quota", "insufficient_quota"))
        elif step == "hang":
            time.sleep(30)
            self.ok(body, n, seed, last)
        elif step == "malformed":
            self.reply(200, b"<html>this is not json")
        elif step == "nochoices":
            self.reply(200, {"id": "x", "object": "chat.completion", "usage": {}})
        elif step == "rejectn":
            if n > 1:
                self.reply(400, error_body("Only one completion choice is allowed",
                                           "invalid_request_error", None))
            else:
                self.ok(body, n, seed, last)
        elif step == "ignoren":
            self.ok(body, 1, seed, last)
        else:
            self.reply(500, error_body("unknown script step " + step, "server_error", None))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256    # the default backlog of 5 drops bursts of connections


def main():
    servers = []
    for port in sys.argv[1:]:
        server = Server(("127.0.0.1", int(port)), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

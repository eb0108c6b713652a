#!/usr/bin/env python3
"""reward_server.py - a scripted reward server for toa-scorer's integration
tests (python3 stdlib only): exact rewards, malformed and short replies,
error statuses and slow replies, on every endpoint the scorer calls.

Usage: reward_server.py PORT

What a text asks for (the texts are the scorer's queries or, for the judge,
the whole judge prompt):
  reward=X        its reward is X (a text without one gets null)
  FAIL500         the whole request answers 500 (OpenAI error shape)
  FAIL400         the whole request answers 400
  SHORT           /reward drops the last reward, /classify and /pooling the
                  last entry
  GARBAGE         200 with a body that is not JSON
  SLEEP=MS        the reply waits MS milliseconds
  TOKENS          /pooling answers one row per token: [[0], [X]]
  judge-reply:... the judge (POST .../chat/completions) replies with the
                  rest of that line verbatim
Endpoints: POST /reward, /classify, /pooling, /v1/chat/completions.
/classify and /pooling answer their entries in reverse order, each with its
"index". GET /stats answers {"calls": {endpoint: count}, "sizes": {endpoint:
[texts per call]}, "authorization": [header values], "bodies": [request
bodies]}; POST /stats/reset clears it.
"""
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {}


def reset():
    with LOCK:
        STATS.clear()
        STATS.update({"calls": {}, "sizes": {}, "authorization": [], "bodies": []})


def reward_of(text):
    match = re.search(r"reward=(-?[0-9.]+(?:e-?[0-9]+)?)", text)
    return float(match.group(1)) if match else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, raw=False):
        data = body.encode() if raw else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message):
        self.reply(status, {"error": {"message": message, "type": "test_error",
                                      "code": status}})

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                self.reply(200, STATS)
        else:
            self.error(404, "not found")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode("utf-8", "replace")
        if self.path == "/stats/reset":
            reset()
            return self.reply(200, {"reset": True})
        try:
            body = json.loads(raw)
        except ValueError:
            return self.error(400, "body is not JSON")
        endpoint = {"/reward": "reward", "/classify": "classify", "/pooling": "pooling",
                    "/v1/chat/completions": "chat"}.get(self.path)
        if not endpoint:
            return self.error(404, "no such endpoint")
        if endpoint == "reward":
            texts = body.get("query", [])
        elif endpoint == "chat":
            texts = [m.get("content", "") for m in body.get("messages", [])]
        else:
            texts = body.get("input", [])
        with LOCK:
            STATS["calls"][endpoint] = STATS["calls"].get(endpoint, 0) + 1
            STATS["sizes"].setdefault(endpoint, []).append(len(texts))
            STATS["authorization"].append(self.headers.get("Authorization"))
            STATS["bodies"].append(body)
        joined = "\n".join(texts)
        sleep = re.search(r"SLEEP=([0-9]+)", joined)
        if sleep:
            time.sleep(int(sleep.group(1)) / 1000.0)
        if "FAIL500" in joined:
            return self.error(500, "scripted server error")
        if "FAIL400" in joined:
            return self.error(400, "scripted bad request")
        if "GARBAGE" in joined:
            return self.reply(200, "<html>not json</html>", raw=True)
        short = "SHORT" in joined
        if endpoint == "reward":
            rewards = [reward_of(t) for t in texts]
            return self.reply(200, {"rewards": rewards[:-1] if short else rewards})
        if endpoint == "chat":
            match = re.search(r"judge-reply:(.*)", joined)
            content = match.group(1) if match else "I cannot judge this."
            return self.reply(200, {
                "id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
        data = []
        for index, text in enumerate(texts):
            value = reward_of(text)
            if endpoint == "classify":
                data.append({"index": index, "label": "LABEL_0", "num_classes": 1,
                             "probs": [value]})
            elif "TOKENS" in text:
                data.append({"index": index, "object": "pooling", "data": [[0.0], [value]]})
            else:
                data.append({"index": index, "object": "pooling", "data": [value, 0.0]})
        if short:
            data = data[:-1]
        data.reverse()
        return self.reply(200, {"id": "test", "object": "list", "model": body.get("model"),
                                "data": data,
                                "usage": {"prompt_tokens": 1, "total_tokens": 1}})


def main():
    reset()
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()

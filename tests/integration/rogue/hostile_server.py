#!/usr/bin/env python3
"""hostile_server.py - an OpenAI-compatible endpoint that misbehaves on
purpose, for tests/integration/test_rogue_peers.sh (python3 stdlib only).

Usage: hostile_server.py PORT

The request's "model" picks the behaviour:
  echo-auth     401 whose error message echoes the Authorization header
  echo-plain    400 with a plain-text body echoing the Authorization header,
                then every request header
  digits        200 whose reply holds runs of 31 to 45 digits and no rating
                (the judge parser looped forever on more than 30 digits)
  anything else 200 with the reply "Rating: [[7]]"
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIGITS = "9" * 40 + " then " + "1" * 45 + "/10 and " + "7" * 31


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            request = {}
        model = request.get("model", "")
        auth = self.headers.get("Authorization", "(none)")
        if model == "echo-auth":
            self.send(401, json.dumps({"error": {
                "message": "Incorrect API key provided: %s. You sent: %s" % (auth, auth),
                "type": "invalid_request_error", "param": None, "code": auth}}))
            return
        if model == "echo-plain":
            headers = "".join("%s: %s\n" % (k, v) for k, v in self.headers.items())
            self.send(400, "Bad request. Authorization: %s\nAll headers:\n%s" % (auth, headers),
                      "text/plain")
            return
        content = DIGITS if model == "digits" else "Rating: [[7]]"
        self.send(200, json.dumps({
            "id": "chatcmpl-hostile", "object": "chat.completion", "created": 1,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}))


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()

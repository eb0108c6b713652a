#!/usr/bin/python3
"""toa_client.py - a second client of toa-broker, in Python, written from
proto/README.md and docs/jobs.md alone (it shares no code with `toa`).
Uses Debian's python3-zmq and python3-msgpack.

usage:
  toa_client.py submit --endpoint E --settings FILE --method M --input F --output O [--job ID]
                       [--chunk-lines N] [--single-message]
  toa_client.py attach --endpoint E --job ID --output O
  toa_client.py status --endpoint E [--job ID]
  toa_client.py cancel --endpoint E --job ID
Without CURVE a job belongs to a token (docs/jobs.md "Ownership"): submit
makes one, keeps it in the token directory ($TOA_TOKEN_DIR, else
$XDG_STATE_HOME/toa/tokens, else ~/.local/state/toa/tokens; a file per job,
mode 0600, as `toa` keeps them) and every request about the job sends it.
common options: --heartbeat-ms N (the broker's broker.heartbeat_ms, default 1000),
                --timeout-s N (give up when the broker is silent that long, default 30)

submit streams the batch (submit-begin, submit-chunk of at most N lines or
about 1 MiB with 4 in flight, submit-end), or sends it in one submit
message with --single-message. submit and attach follow the job to its end: every result line is appended
to OUTPUT (once per prompt id), flushed and fsync'd before it is
acknowledged. Exit status: 0 the job is done and every result is stored,
1 an error (the broker's, or silence), 2 the batch was rejected, 3 the job
was cancelled. At accept it prints "job ID: N prompts" on stdout."""
import argparse
import json
import os
import re
import sys
import time

import msgpack
import zmq

VERSION = 1
MAX_MESSAGE_BYTES = 256 << 20      # ZMQ_MAXMSGSIZE, as the broker's
FLUSH_EVERY_S = 0.1                # store results in batches: 100 ms ...
FLUSH_LINES = 64                   # ... or 64 lines
CHUNK_BYTES = 1 << 20              # a submit-chunk holds about 1 MiB at most
IN_FLIGHT = 4                      # submit-chunks sent and not yet acknowledged


TOKEN_COMMANDS = {"submit", "submit-begin", "result-ack", "attach", "status-request", "cancel"}


def token_dir():
    for base, tail in ((os.environ.get("TOA_TOKEN_DIR"), ""),
                       (os.environ.get("XDG_STATE_HOME"), "/toa/tokens"),
                       (os.environ.get("HOME"), "/.local/state/toa/tokens")):
        if base:
            return base + tail
    raise SystemExit("toa_client: no token directory (set TOA_TOKEN_DIR)")


def make_token(job):
    """A new token for JOB, kept in its file (mode 0600)."""
    token = os.urandom(16).hex()
    directory = token_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(directory, job), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def load_token(job):
    """JOB's token from its file, or None (the broker then refuses with 403)."""
    try:
        with open(os.path.join(token_dir(), job), encoding="ascii") as f:
            return f.read().strip() or None
    except OSError:
        return None


def log(text):
    print(f"toa_client: {text}", file=sys.stderr, flush=True)


class Broker:
    """One DEALER socket to the broker's client endpoint."""

    def __init__(self, endpoint):
        self.context = zmq.Context.instance()
        self.endpoint = endpoint
        self.socket = None
        self.last_sent = 0.0
        self.token = None                  # sent with every request about a job
        self.connect()

    def connect(self):
        if self.socket is not None:
            self.socket.close(linger=0)
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.socket.connect(self.endpoint)

    def send(self, cmd, **fields):
        message = {"v": VERSION, "cmd": cmd}
        message.update(fields)
        if self.token and cmd in TOKEN_COMMANDS:
            message["token"] = self.token
        self.socket.send(msgpack.packb(message, use_bin_type=True))
        self.last_sent = time.monotonic()

    def receive(self, timeout_s):
        """The next message as a dict, or None after TIMEOUT_S."""
        if not self.socket.poll(int(timeout_s * 1000)):
            return None
        frames = self.socket.recv_multipart()
        if len(frames) != 1:
            log(f"dropped a message of {len(frames)} frames")
            return {}
        message = msgpack.unpackb(frames[0], raw=False)
        if not isinstance(message, dict) or message.get("v") != VERSION:
            log("dropped a message that is not a version 1 map")
            return {}
        return message


class Output:
    """The output file: one line per prompt id; lines appended, flushed and
    fsync'd before their results are acknowledged."""

    def __init__(self, path):
        self.path = path
        self.ids = set()
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            end = data.rfind(b"\n") + 1
            if end < len(data):         # a line cut by a crash: never acknowledged
                with open(path, "r+b") as f:
                    f.truncate(end)
                data = data[:end]
            for line in data.splitlines():
                self.ids.add(self.key(json.loads(line)))
        self.file = open(path, "a", encoding="utf-8")
        self.pending = 0
        self.last_flush = time.monotonic()

    @staticmethod
    def key(result):
        """A prompt's id as a key: 7 and "7" are different ids."""
        return json.dumps(result.get("id"), sort_keys=True)

    def add(self, line):
        """Appends LINE unless its prompt is already in the file."""
        key = self.key(json.loads(line))
        if key in self.ids:
            return False
        self.ids.add(key)
        self.file.write(line.rstrip("\n") + "\n")
        self.pending += 1
        return True

    def due(self):
        return self.pending >= FLUSH_LINES or time.monotonic() - self.last_flush >= FLUSH_EVERY_S

    def store(self):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.pending = 0
        self.last_flush = time.monotonic()

    def close(self):
        self.store()
        self.file.close()


def follow(broker, job, output, heartbeat_s, timeout_s):
    """Follows JOB (already attached) to its end. Returns the exit status."""
    received = -1           # highest seq received, in order
    stored = -1             # highest seq stored on disk
    acked = -1              # highest seq acknowledged
    last_message = last_result = time.monotonic()
    last_attach = 0.0
    broker_done = 0
    attach_refused = None   # when an attach was first refused (423)
    while True:
        # the attached client heartbeats: it keeps the job while it is heard
        if time.monotonic() - broker.last_sent >= heartbeat_s:
            broker.send("heartbeat")
        # store in batches; results already in the file need no write
        if received > stored and (output.pending == 0 or output.due()):
            if output.pending:
                output.store()
            stored = received
        if stored > acked:
            broker.send("result-ack", job=job, seq=stored)
            acked = stored
        message = broker.receive(min(FLUSH_EVERY_S, heartbeat_s))
        now = time.monotonic()
        if message is None:
            if output.pending:
                output.store()
                stored = received
            if now - last_message > timeout_s:
                log(f"no word from the broker for {timeout_s:.0f} s; attach again later "
                    f"(toa_client.py attach --job {job})")
                return 1
            # a silent broker (restarted?), or results announced but none
            # came for 3 heartbeats (one was lost): attach again
            silent = now - last_message > 3 * heartbeat_s
            stalled = broker_done > received + 1 and now - last_result > 3 * heartbeat_s
            if (silent or stalled) and now - last_attach > 3 * heartbeat_s:
                broker.send("attach", job=job)
                last_attach = last_result = now
            continue
        last_message = now
        cmd = message.get("cmd")
        if cmd == "result" and message.get("job") == job:
            seq = message["seq"]
            last_result = now
            if seq <= received:
                continue            # resent after an attach: already handled
            if seq != received + 1:
                # a gap: one was lost on the way; ask again (at most once
                # per heartbeat: an attach resends every unacknowledged one)
                if now - last_attach > heartbeat_s:
                    log(f"result {seq} came before {received + 1}; attaching again")
                    broker.send("attach", job=job)
                    last_attach = now
                continue
            output.add(message["result"])
            received = seq
        elif cmd == "progress":
            status = message["status"]
            if status.get("job") != job:
                continue
            state = status["state"]
            broker_done = status["done"]
            # results before `fetched` are acknowledged (by an earlier run
            # of this client): an attach resends from there
            if status["fetched"] - 1 > received:
                received = stored = acked = status["fetched"] - 1
            if state == "done":
                output.store()
                if status["fetched"] == status["total"]:
                    print(f"done: {status['total']} prompts, results in {output.path}")
                    return 0
                log(f"job {job} is done but {status['total'] - status['fetched']} results "
                    "were never acknowledged")
                return 1
            if state == "cancelled":
                output.store()
                log(f"job {job} was cancelled")
                return 3
            # the broker missed an ack (acks are cumulative and idempotent)
            if acked >= 0 and status["fetched"] < acked + 1:
                broker.send("result-ack", job=job, seq=acked)
        elif cmd == "error":
            if message["code"] == 503:
                continue            # Redis is away: keep waiting
            if message["code"] == 423:
                # another client holds the job; it gives it up when it has
                # not been heard for 3 heartbeats: ask again each heartbeat
                if attach_refused is None:
                    log(f"error 423: {message['message']}; asking again every heartbeat")
                    attach_refused = now
                if now - attach_refused > timeout_s:
                    log(f"error 423: {message['message']}")
                    return 1
                time.sleep(heartbeat_s)
                broker.send("attach", job=job)
                last_attach = time.monotonic()
                continue
            log(f"error {message['code']}: {message['message']}")
            return 1


def read_prompts(path):
    """The file's non-blank lines as {line, text}, one at a time."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.strip():
                yield {"line": number, "text": line}


def chunks(prompts, max_lines, max_bytes):
    """PROMPTS in lists of at most MAX_LINES lines and about MAX_BYTES."""
    chunk, size = [], 0
    for prompt in prompts:
        chunk.append(prompt)
        size += len(prompt["text"]) + 16
        if len(chunk) >= max_lines or size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def wait_answer(broker, commands, timeout_s):
    """The first message whose cmd is in COMMANDS, or None after TIMEOUT_S."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = broker.receive(deadline - time.monotonic())
        if message and message.get("cmd") in commands:
            return message
    return None


def stream_batch(broker, job, args):
    """Sends the batch as submit-begin, submit-chunk... (at most
    IN_FLIGHT unacknowledged), submit-end. Returns the broker's answer to
    the end (accept, reject or error), or an earlier reject or error, or
    None when the broker is silent."""
    broker.send("submit-begin", job=job, method=args.method, settings=args.settings_text)
    answer = wait_answer(broker, {"submit-ack", "reject", "error"}, args.timeout_s)
    if answer is None or answer["cmd"] != "submit-ack":
        return answer
    sent = acked = n_prompts = 0
    for chunk in chunks(read_prompts(args.input), args.chunk_lines, CHUNK_BYTES):
        while sent - acked >= IN_FLIGHT:
            answer = wait_answer(broker, {"submit-ack", "error"}, args.timeout_s)
            if answer is None or answer["cmd"] != "submit-ack":
                return answer
            acked = max(acked, answer["seq"])
        sent += 1
        n_prompts += len(chunk)
        broker.send("submit-chunk", job=job, seq=sent, prompts=chunk)
    while acked < sent:
        answer = wait_answer(broker, {"submit-ack", "error"}, args.timeout_s)
        if answer is None or answer["cmd"] != "submit-ack":
            return answer
        acked = max(acked, answer["seq"])
    broker.send("submit-end", job=job, n_prompts=n_prompts)
    return wait_answer(broker, {"accept", "reject", "error"}, args.timeout_s)


def submit(args):
    job = args.job or time.strftime("%Y%m%d-%H%M%S-") + os.urandom(3).hex()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", job):
        log(f"bad job id {job!r}")
        return 2
    with open(args.settings, encoding="utf-8") as f:
        args.settings_text = json.dumps(json.load(f))
    output = Output(args.output)
    broker = Broker(args.endpoint)
    broker.token = make_token(job)
    if args.single_message:
        broker.send("submit", job=job, method=args.method, settings=args.settings_text,
                    prompts=list(read_prompts(args.input)))
        answer = wait_answer(broker, {"accept", "reject", "error"}, args.timeout_s)
    else:
        answer = stream_batch(broker, job, args)
    if answer is None:
        log("no answer to submit")
        return 1
    if answer["cmd"] == "reject":
        log(answer["message"])
        for error in answer["errors"]:
            log(f"{args.input}:{error['line']}: {error['reason']}")
        return 2
    if answer["cmd"] == "error":
        log(f"error {answer['code']}: {answer['message']}")
        return 1
    print(f"job {job}: {answer['n_prompts']} prompts", flush=True)
    try:
        return follow(broker, job, output, args.heartbeat_ms / 1000, args.timeout_s)
    finally:
        output.close()


def attach(args):
    output = Output(args.output)
    broker = Broker(args.endpoint)
    broker.token = load_token(args.job)
    broker.send("attach", job=args.job)
    try:
        return follow(broker, args.job, output, args.heartbeat_ms / 1000, args.timeout_s)
    finally:
        output.close()


def status(args):
    broker = Broker(args.endpoint)
    broker.token = load_token(args.job) if args.job else None
    broker.send("status-request", job=args.job or "")
    answer = wait_answer(broker, {"status", "error"}, args.timeout_s)
    if answer is None or answer["cmd"] == "error":
        log(answer["message"] if answer else "no answer")
        return 1
    for job in answer["jobs"]:
        print(json.dumps(job, sort_keys=True))
    return 0


def cancel(args):
    broker = Broker(args.endpoint)
    broker.token = load_token(args.job)
    broker.send("cancel", job=args.job)
    answer = wait_answer(broker, {"status", "error"}, args.timeout_s)
    if answer is None or answer["cmd"] == "error":
        log(answer["message"] if answer else "no answer")
        return 1
    for job in answer["jobs"]:
        print(f"{job['job']}: {job['state']}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["submit", "attach", "status", "cancel"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--job")
    parser.add_argument("--settings")
    parser.add_argument("--method")
    parser.add_argument("--input")
    parser.add_argument("--output")
    parser.add_argument("--heartbeat-ms", type=int, default=1000)
    parser.add_argument("--timeout-s", type=float, default=30)
    parser.add_argument("--chunk-lines", type=int, default=1000)
    parser.add_argument("--single-message", action="store_true")
    args = parser.parse_args()
    needs = {"submit": ["settings", "method", "input", "output"], "attach": ["job", "output"],
             "cancel": ["job"], "status": []}[args.command]
    missing = [name for name in needs if getattr(args, name) is None]
    if missing:
        parser.error(f"{args.command} needs --{', --'.join(missing)}")
    return {"submit": submit, "attach": attach, "status": status, "cancel": cancel}[
        args.command](args)


if __name__ == "__main__":
    sys.exit(main())

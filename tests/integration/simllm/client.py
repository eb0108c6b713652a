#!/usr/bin/env python3
"""tests/integration/simllm/client.py - HTTP client helpers for test_simllm.sh
(stdlib only). Each subcommand prints one JSON object on stdout.

  slots URL MODEL N             N concurrent chat requests; elapsed ms of each
  rates URL MODEL N             N chat requests; counts by outcome
  accuracy URL DATA SEEDS M...  every question of DATA asked SEEDS times of
                                each model M; share correct and per-question bests
  load URL MODEL N CONC         N requests over CONC keep-alive connections; req/s
"""
import http.client
import json
import re
import sys
import threading
import time
import urllib.parse


def connect(url):
    parts = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def chat_body(model, content, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    body.update(extra)
    return json.dumps(body)


def post(conn, body, headers=None):
    conn.request("POST", "/v1/chat/completions", body,
                 dict({"Content-Type": "application/json"}, **(headers or {})))
    response = conn.getresponse()
    return response.status, response.read()


def run_threads(count, target):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def cmd_slots(url, model, n):
    n = int(n)
    elapsed = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        conn = connect(url)
        conn.connect()
        barrier.wait()
        start = time.monotonic()
        status, _ = post(conn, chat_body(model, "slot test %d" % i))
        elapsed[i] = (round((time.monotonic() - start) * 1000), status)
        conn.close()

    run_threads(n, one)
    return {"elapsed_ms": sorted(e[0] for e in elapsed), "statuses": [e[1] for e in elapsed]}


def cmd_rates(url, model, n):
    counts = {"ok": 0, "malformed": 0, "500": 0, "429": 0, "retry_after": 0, "other": 0}
    conn = connect(url)
    for i in range(int(n)):
        conn.request("POST", "/v1/chat/completions", chat_body(model, "rate test %d" % i),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        if response.status == 200:
            try:
                json.loads(body)
                counts["ok"] += 1
            except ValueError:
                counts["malformed"] += 1
        elif response.status in (500, 429):
            counts[str(response.status)] += 1
            if response.getheader("Retry-After"):
                counts["retry_after"] += 1
        else:
            counts["other"] += 1
    return counts


FINAL = re.compile(r"####\s*(-?[\d,]*\.?\d+)")


def final_answer(text):
    found = FINAL.findall(text)
    return float(found[-1].replace(",", "")) if found else None


def cmd_accuracy(url, data, seeds, *models):
    seeds = int(seeds)
    questions = []
    with open(data) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                questions.append((row["instruction"], float(row["gold_answer"].replace(",", ""))))
    jobs = [(m, q, s) for m in models for q in range(len(questions)) for s in range(seeds)]
    right = {(m, q): 0 for m in models for q in range(len(questions))}
    errors = []
    lock = threading.Lock()
    workers = 8

    def work(w):
        conn = connect(url)
        for index in range(w, len(jobs), workers):
            model, q, seed = jobs[index]
            status, body = post(conn, chat_body(model, questions[q][0], seed=1000 * seed + 7,
                                                temperature=0.7))
            if status != 200:
                with lock:
                    errors.append(status)
                continue
            text = json.loads(body)["choices"][0]["message"]["content"]
            answer = final_answer(text)
            if answer is not None and abs(answer - questions[q][1]) < 1e-9:
                with lock:
                    right[(model, q)] += 1

    run_threads(workers, work)
    accuracy = {m: sum(right[(m, q)] for q in range(len(questions))) / (len(questions) * seeds)
                for m in models}
    best = {m: 0 for m in models}
    for q in range(len(questions)):
        scores = [(right[(m, q)], m) for m in models]
        top = max(scores)[0]
        winners = [m for s, m in scores if s == top]
        if len(winners) == 1:
            best[winners[0]] += 1
    return {"accuracy": accuracy, "strict_best_questions": best, "errors": len(errors),
            "requests": len(jobs)}


def cmd_load(url, model, n, concurrency):
    n, concurrency = int(n), int(concurrency)
    statuses = []
    lock = threading.Lock()

    def work(w):
        conn = connect(url)
        body = chat_body(model, "load test")
        mine = []
        for _ in range(w, n, concurrency):
            status, _ = post(conn, body)
            mine.append(status)
        with lock:
            statuses.extend(mine)

    start = time.monotonic()
    run_threads(concurrency, work)
    seconds = time.monotonic() - start
    return {"requests": len(statuses), "ok": statuses.count(200),
            "seconds": round(seconds, 3), "req_per_s": round(len(statuses) / seconds)}


def main():
    commands = {"slots": cmd_slots, "rates": cmd_rates, "accuracy": cmd_accuracy,
                "load": cmd_load}
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        sys.stderr.write(__doc__)
        return 2
    print(json.dumps(commands[sys.argv[1]](*sys.argv[2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())

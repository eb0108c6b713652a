#!/usr/bin/env python3
"""prom.py - reads a Prometheus text page (as toa-broker serves it) for the
metrics test. Commands:

  prom.py check PAGE            every sample belongs to a family with # HELP and
                                # TYPE; names follow the conventions (toa_ prefix,
                                counters end in _total, histograms have _bucket
                                with le="+Inf", _sum and _count); exit 1 with the
                                problems otherwise
  prom.py sum PAGE NAME [L=V]...  the sum of NAME's samples whose labels match
  prom.py families PAGE         the family names with their types
  prom.py dashboard PAGE JSON   every query of the Grafana dashboard names a
                                metric family the page declares
"""
import json
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(path):
    families, samples = {}, []
    helps = set()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# HELP "):
                helps.add(line.split(" ")[2])
            elif line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                families[name] = kind
            elif line and not line.startswith("#"):
                m = SAMPLE.match(line)
                if not m:
                    raise SystemExit(f"{path}: not a sample line: {line!r}")
                labels = dict(LABEL.findall(m.group(3) or ""))
                samples.append((m.group(1), labels, float(m.group(4))))
    return families, helps, samples


def family_of(name, families):
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and families.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return None


def check(path):
    families, helps, samples = parse(path)
    problems = []
    for name, kind in families.items():
        if not name.startswith("toa_"):
            problems.append(f"{name}: no toa_ prefix")
        if name not in helps:
            problems.append(f"{name}: no # HELP")
        if kind == "counter" and not name.endswith("_total"):
            problems.append(f"{name}: a counter not ending in _total")
        if kind != "counter" and name.endswith("_total"):
            problems.append(f"{name}: _total but a {kind}")
        if kind == "histogram" and not name.endswith("_seconds"):
            problems.append(f"{name}: a histogram not in seconds")
    for name, labels, value in samples:
        family = family_of(name, families)
        if family is None:
            problems.append(f"{name}: sample without # TYPE")
        elif families[family] == "counter" and value < 0:
            problems.append(f"{name}: negative counter")
    for name, kind in families.items():
        if kind != "histogram":
            continue
        series = {tuple(sorted((k, v) for k, v in l.items() if k != "le"))
                  for n, l, _ in samples if n == name + "_count"}
        for key in series:
            inf = [v for n, l, v in samples if n == name + "_bucket" and l.get("le") == "+Inf"
                   and tuple(sorted((k, x) for k, x in l.items() if k != "le")) == key]
            count = [v for n, l, v in samples if n == name + "_count"
                     and tuple(sorted(l.items())) == key]
            if not inf or inf != count:
                problems.append(f"{name}{dict(key)}: +Inf bucket {inf} != count {count}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def total(path, name, filters):
    _, _, samples = parse(path)
    want = dict(f.split("=", 1) for f in filters)
    s = sum(v for n, l, v in samples
            if n == name and all(l.get(k) == x for k, x in want.items()))
    print(int(s) if s == int(s) else s)
    return 0


def dashboard(path, board):
    families, _, _ = parse(path)
    with open(board) as f:
        data = json.load(f)
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                exprs.append(node["expr"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(data)
    bad = 0
    if not exprs:
        print(f"{board}: no queries")
        return 1
    for expr in exprs:
        names = re.findall(r"\btoa_[a-z0-9_]+", expr)
        if not names:
            print(f"query names no toa metric: {expr}")
            bad += 1
        for name in names:
            if family_of(name, families) is None:
                print(f"query names {name}, which the broker does not serve: {expr}")
                bad += 1
    print(f"{len(exprs)} queries")
    return 1 if bad else 0


if __name__ == "__main__":
    cmd, page = sys.argv[1], sys.argv[2]
    if cmd == "check":
        sys.exit(check(page))
    if cmd == "sum":
        sys.exit(total(page, sys.argv[3], sys.argv[4:]))
    if cmd == "families":
        for n, k in sorted(parse(page)[0].items()):
            print(n, k)
        sys.exit(0)
    if cmd == "dashboard":
        sys.exit(dashboard(page, sys.argv[3]))
    sys.exit(f"unknown command {cmd}")

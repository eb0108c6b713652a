#!/usr/bin/env python3
"""make_reference.py - writes reference.tsv, the chrF reference table that
tests/unit/test_chrf.c checks scorer/chrf.c against.

Reference values: sacreBLEU 2.x `CHRF().sentence_score(hyp, [ref]).score`
(char_order=6, word_order=0, beta=2, lowercase=False, whitespace=False,
eps_smoothing=False). When the sacrebleu module can be imported, its values
are used and the script checks that the independent implementation below
agrees. Otherwise (as on the machine that generated the committed table:
sacreBLEU is not packaged for Debian 12 and PyPI is not reachable) the values
come from `reference_chrf` below, written from the definition of chrF and the
way sacreBLEU 2.x computes it: whitespace removed with str.split(), character
n-grams of code points counted with clipping, precision and recall averaged
over the "effective" orders (orders where both sides have n-grams), F-beta of
the averages, times 100.

Strings are handled as bytes decoded with errors="surrogateescape", so a
byte that is not valid UTF-8 is one code point of its own.

Usage: python3 make_reference.py [OUTPUT]   (default: reference.tsv beside
this script). The translation pairs come from the repository's own
examples/prompts-translate.jsonl (German source, English reference), so the
table can be remade from a clone alone.
"""
import json
import os
import random
import sys
from collections import Counter

CHAR_ORDER = 6
BETA = 2


def reference_chrf(hyp: str, ref: str) -> float:
    """chrF on a 0..100 scale; 0.0 for an empty reference (sacreBLEU raises)."""
    hyp = "".join(hyp.split())
    ref = "".join(ref.split())
    factor = BETA ** 2
    avg_prec = avg_rec = 0.0
    effective = 0
    for n in range(1, CHAR_ORDER + 1):
        h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
        r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
        n_hyp, n_ref = sum(h.values()), sum(r.values())
        n_match = sum(min(c, r[g]) for g, c in h.items() if g in r)
        if n_hyp > 0 and n_ref > 0:
            avg_prec += n_match / n_hyp
            avg_rec += n_match / n_ref
            effective += 1
    if effective == 0:
        return 0.0
    avg_prec /= effective
    avg_rec /= effective
    if avg_prec + avg_rec == 0:
        return 0.0
    score = (1 + factor) * avg_prec * avg_rec
    score /= (factor * avg_prec) + avg_rec
    return 100 * score


def sacrebleu_chrf():
    """(function, version) of the real sacreBLEU, or (None, None)."""
    try:
        import sacrebleu
        from sacrebleu.metrics import CHRF
    except ImportError:
        return None, None
    metric = CHRF()

    def score(hyp, ref):
        if ref == "":
            return 0.0          # sacreBLEU raises on an empty reference
        return metric.sentence_score(hyp, [ref]).score
    return score, sacrebleu.__version__


def escape(data: bytes) -> str:
    """Bytes as one TSV field: \\\\ \\t \\n \\r and \\xNN for other control
    bytes and bytes that are not valid UTF-8; valid UTF-8 stays as it is."""
    out = []
    text = data.decode("utf-8", "surrogateescape")
    for ch in text:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7f:
            out.append("\\x%02x" % o)
        elif 0xdc80 <= o <= 0xdcff:
            out.append("\\x%02x" % (o - 0xdc00))
        else:
            out.append(ch)
    return "".join(out)


def corrupt(text: str, rng: random.Random) -> str:
    """A deterministic damaged copy: drops, swaps and misspells some words."""
    words = text.split()
    out = []
    for w in words:
        roll = rng.random()
        if roll < 0.12:
            continue                                    # dropped
        if roll < 0.25 and len(w) > 3:
            i = rng.randrange(len(w) - 1)
            w = w[:i] + w[i + 1] + w[i] + w[i + 2:]     # letters swapped
        out.append(w)
    if len(out) > 3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]         # words swapped
    return " ".join(out)


def fixed_pairs():
    """(note, hypothesis bytes, reference bytes) written by hand."""
    u = lambda s: s.encode("utf-8")
    return [
        ("identical", u("The cat sat on the mat."), u("The cat sat on the mat.")),
        ("empty hypothesis", u(""), u("The cat sat on the mat.")),
        ("empty reference (sacreBLEU raises; toa gives 0)", u("The cat sat on the mat."), u("")),
        ("both empty", u(""), u("")),
        ("whitespace-only hypothesis", u(" \t\n "), u("Hello world")),
        ("whitespace-only reference", u("Hello world"), u("   ")),
        ("one word off", u("The cat sat on the mat."), u("The dog sat on the mat.")),
        ("one word missing", u("The cat sat on mat."), u("The cat sat on the mat.")),
        ("reordered words", u("on the mat the cat sat"), u("the cat sat on the mat")),
        ("whitespace ignored", u("thecatsat onthemat"), u("the cat sat on the mat")),
        ("case differs", u("hello world"), u("Hello World")),
        ("no overlap", u("xyz"), u("abc")),
        ("single character match", u("a"), u("a")),
        ("shorter than order 6", u("ab"), u("ba")),
        ("clipping of repeated n-grams", u("aaaaaaaa"), u("aaa")),
        ("repeated hypothesis", u("the the the the the"), u("the cat")),
        ("punctuation differs", u("Hello, world!"), u("Hello world.")),
        ("punctuation only", u("!?.,;:"), u(".,;:!?")),
        ("German umlauts vs transliteration", u("Die Straße ist schön und grün."), u("Die Strasse ist schoen und gruen.")),
        ("German with umlauts, one word off", u("Über den Wolken muß die Freiheit wohl grenzenlos sein."), u("Über den Wolken muss die Freiheit wohl grenzenlos sein.")),
        ("German against English", u("Ich habe heute keine Zeit."), u("I have no time today.")),
        ("French accents", u("L'été à Paris était très chaud."), u("L'été à Paris fut très chaud.")),
        ("precomposed vs combining accent", u("caf\u00e9"), u("cafe\u0301")),
        ("Cyrillic", u("Привет, как дела?"), u("Привет, как у тебя дела?")),
        ("Greek", u("Καλημέρα κόσμε"), u("Καλημέρα σε όλο τον κόσμο")),
        ("CJK", u("我爱北京天安门"), u("我爱北京")),
        ("emoji (4-byte UTF-8)", u("Great job 👍🎉 everyone"), u("Great job 🎉 everyone 👍")),
        ("Unicode whitespace NBSP, ideographic, em space", u("a\u00a0b\u3000c\u2003d"), u("abcd")),
        ("U+200B is not whitespace", u("a\u200bb"), u("ab")),
        ("tabs and newlines", u("line one\tline two\nline three"), u("line one line two line three")),
        ("numbers", u("It costs 1,234.56 euros."), u("It costs 1234.56 euros.")),
        ("invalid UTF-8 bytes", b"caf\xe9 \xff\xfe ok", b"caf\xe9 ok"),
        ("truncated UTF-8 sequence", b"gr\xc3\xbcn \xe4\xb8", b"gr\xc3\xbcn \xe4\xb8\xad"),
        ("encoded surrogate is invalid", b"a\xed\xa0\x80b", b"a\xed\xa0\x80b"),
        ("backslash and quotes", u("say \"hi\" \\ bye"), u("say 'hi' / bye")),
        ("long repetitive", u("abc " * 200), u("abcd " * 150)),
    ]


def example_pairs():
    root = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(root, "..", "..", "..", ".."))
    path = os.path.join(repo, "examples", "prompts-translate.jsonl")
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    rng = random.Random(20240601)
    pairs = []
    longest = max(range(len(lines)), key=lambda i: len(lines[i]["en"]))
    picks = sorted({0, 1, 3, 5, 7, len(lines) - 1, longest})
    for k, i in enumerate(picks):
        en, de = lines[i]["en"], lines[i]["de"]
        tag = "examples/prompts-translate line %d" % (i + 1)
        pairs.append((tag + " en vs corrupted en", corrupt(en, rng).encode(), en.encode()))
        if k % 2 == 0 or i == longest:
            pairs.append((tag + " en vs de", en.encode(), de.encode()))
    return pairs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "reference.tsv")
    real, version = sacrebleu_chrf()
    rows = []
    for note, hyp_b, ref_b in fixed_pairs() + example_pairs():
        hyp = hyp_b.decode("utf-8", "surrogateescape")
        ref = ref_b.decode("utf-8", "surrogateescape")
        value = reference_chrf(hyp, ref)
        if real is not None:
            official = real(hyp, ref)
            if abs(official - value) > 1e-9:
                sys.exit("disagreement on %r: sacreBLEU %r, ours %r" % (note, official, value))
            value = official
        rows.append("%r\t%s\t%s\t%s" % (value, escape(hyp_b), escape(ref_b), note))
    source = ("sacreBLEU %s" % version) if real else \
        ("independent Python reference in make_reference.py (sacreBLEU 2.x algorithm; "
         "sacreBLEU itself not installable here), Python %d.%d.%d" % sys.version_info[:3])
    with open(output, "w", encoding="utf-8", newline="\n") as f:
        f.write("# chrF reference values (chrF2, n=1..6, word order 0, whitespace removed, "
                "effective-order averaging)\n")
        f.write("# generated by make_reference.py with %s\n" % source)
        f.write("# columns: score(0..100) TAB hypothesis TAB reference TAB note; "
                "escapes \\\\ \\t \\n \\r \\xNN (raw byte)\n")
        for row in rows:
            f.write(row + "\n")
    print("%d rows written to %s" % (len(rows), output))


if __name__ == "__main__":
    main()

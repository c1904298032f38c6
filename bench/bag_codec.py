"""The Ray engine's bag values: MessagePack (what `curate.engines.ray.bag` uses) vs pickle protocol 5 (what
it used before), on the value shapes of the engine's largest shuffles. Encode, decode and bytes per value,
median of `--repeats` rounds (alternating codecs, so a change of machine load hits both).

    .venv/bin/python bench/bag_codec.py [--n 100000] [--repeats 5] [--write]
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sections import CONDITIONS, write_section
from curate.engines.ray import bag

WORDS = ["the", "a", "flight", "crew", "seat", "late", "bag", "lost", "kind", "broken", "great", "delayed",
         "gate", "food", "service"]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))


def shapes(n: int, seed: int = 0) -> dict[str, list]:
    """`n` values of each shape, as the engine's steps build them."""
    rng = random.Random(seed)
    pos = [rng.randrange(1 << 40) for _ in range(n)]
    sig = [rng.randbytes(256) for _ in range(n)]      # 128 permutations x uint16
    return {
        "candidate pair ((tag, a, b), None)": [(("nd", p, p + 7), None) for p in pos],
        "head row (pos, (h, id, text, signature))": [
            (p, ("h", f"row-{p}", _text(rng), s)) for p, s in zip(pos, sig, strict=True)],
        "component state ((tag, node), (s, ...))": [
            (("nd", p), ("s", p - 3, f"row-{p - 3}", (p - 3, p + 5, p + 9), 0.91, f"row-{p}", True))
            for p in pos],
        "record to write (pos, (row, json))": [
            (p, ("row", json.dumps({"id": f"row-{p}", "text": _text(rng), "label": "pos"}))) for p in pos],
    }


def _time(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(values: list, repeats: int) -> dict[str, dict[str, float]]:
    codecs = {"msgpack": (bag.dump, bag.load),
              # the peer: bytes this loop just pickled itself, never a file
              "pickle 5": (lambda v: pickle.dumps(v, protocol=5), pickle.loads)}
    enc: dict[str, list[float]] = {k: [] for k in codecs}
    dec: dict[str, list[float]] = {k: [] for k in codecs}
    size = {}
    for _ in range(repeats):
        for name, (dump, load) in codecs.items():
            raw: list[bytes] = []
            enc[name].append(_time(lambda: raw.extend(dump(v) for v in values)))   # noqa: B023
            dec[name].append(_time(lambda: [load(r) for r in raw]))                # noqa: B023
            size[name] = sum(map(len, raw)) / len(raw)
    n = len(values)
    return {k: {"enc_us": statistics.median(enc[k]) / n * 1e6, "dec_us": statistics.median(dec[k]) / n * 1e6,
                "bytes": size[k]} for k in codecs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    rows = ["| value shape | codec | encode µs/value | decode µs/value | bytes/value |",
            "|---|---|---:|---:|---:|"]
    for shape, values in shapes(a.n).items():
        got = measure(values, a.repeats)
        for codec, m in got.items():
            rows.append(f"| {shape} | {codec} | {m['enc_us']:.2f} | {m['dec_us']:.2f} | {m['bytes']:.0f} |")
    body = "\n".join([
        f"`.venv/bin/python bench/bag_codec.py --n {a.n} --repeats {a.repeats}`; {CONDITIONS}. "
        f"Median of {a.repeats} rounds over {a.n:,} values per shape, codecs alternating.", "", *rows])
    print(body)
    if a.write:
        write_section("bag_codec", body)


if __name__ == "__main__":
    main()

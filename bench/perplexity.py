"""Perplexity: our batched sliding window vs a plain transformers loop vs lm-eval's rolling loglikelihood.

    .venv/bin/python bench/perplexity.py [--docs 6] [--max-length 256] [--stride 128]

Model: smollm2 (SmolLM2-135M-Instruct, fp32, CPU). Text: the first N BBC article bodies (bundled:bbc),
truncated to 1,500 characters so a run takes about a minute. Peers, in the same run:
  - "transformers loop": the loop from the transformers perplexity guide, one window per forward pass,
    with exact per-token NLL sums (the reference value our number must match within 1e-4 relative);
  - lm-eval-harness 0.4 `HFLM.loglikelihood_rolling` when lm_eval is importable (its own windows: max_length
    = the window, no overlap context beyond its rolling scheme, so its perplexity differs by design; we
    compare its tokens/s on the same text).
Writes the `perplexity` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import write_section  # noqa: E402


def hf_loop(model, tok, docs, max_length, stride):
    import torch

    total, n = 0.0, 0
    for d in docs:
        ids = torch.tensor([tok(d)["input_ids"]])
        prev_end = 0
        for begin in range(0, ids.size(1), stride):
            end = min(begin + max_length, ids.size(1))
            trg = end - prev_end
            inp = ids[:, begin:end]
            tgt = inp.clone()
            tgt[:, :-trg] = -100
            with torch.inference_mode():
                out = model(input_ids=inp, labels=tgt)
            k = int((tgt[:, 1:] != -100).sum())
            total += float(out.loss) * k
            n += k
            prev_end = end
            if end == ids.size(1):
                break
    return math.exp(total / n), n


def lm_eval_rolling(path, docs, max_length, batch_size):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=path, device="cpu", batch_size=batch_size, max_length=max_length, dtype="float32")
    reqs = [
        Instance(request_type="loglikelihood_rolling", doc={}, arguments=(d,), idx=i)
        for i, d in enumerate(docs)
    ]
    t0 = time.perf_counter()
    lls = lm.loglikelihood_rolling(reqs, disable_tqdm=True)
    return time.perf_counter() - t0, sum(lls)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=6)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--stride", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=8)
    a = ap.parse_args()

    import torch

    from common.models import resolve_model
    from curate import load
    from evalsuite.perplexity import load_causal_lm, perplexity

    torch.manual_seed(0)
    docs = [r["text"][:1500] for r in load("bundled:bbc", kind="classification", limit=a.docs).records]
    model, tok = load_causal_lm("smollm2")
    rows = []
    t0 = time.perf_counter()
    ours = perplexity(model, tok, docs, max_length=a.max_length, stride=a.stride, batch_size=a.batch_size)
    t_ours = time.perf_counter() - t0
    rows.append(("datavet (batched windows)", ours.token_perplexity, ours.n_tokens, t_ours))
    t0 = time.perf_counter()
    ref_ppl, ref_n = hf_loop(model, tok, docs, a.max_length, a.stride)
    t_ref = time.perf_counter() - t0
    rows.append(("transformers guide loop", ref_ppl, ref_n, t_ref))
    note = ""
    try:
        t_lm, ll = lm_eval_rolling(resolve_model("smollm2").path, docs, a.max_length, a.batch_size)
        n_lm = sum(len(tok(d, add_special_tokens=False)["input_ids"]) for d in docs)
        rows.append(("lm-eval 0.4 loglikelihood_rolling", math.exp(-ll / n_lm), n_lm, t_lm))
    except Exception as e:  # lm-eval missing or incompatible with this transformers: say so in the table
        note = f"lm-eval not measured: {type(e).__name__}: {str(e)[:160]}"
    rel = abs(ours.token_perplexity - ref_ppl) / ref_ppl
    lines = [
        f"Command: `.venv/bin/python bench/perplexity.py --docs {a.docs} --max-length {a.max_length} "
        f"--stride {a.stride} --batch-size {a.batch_size}` (smollm2 fp32, CPU, 2 cores shared with other "
        "jobs: figures taken under load).",
        "",
        "| method | token perplexity | tokens scored | seconds | tokens/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, p, n, t in rows:
        lines.append(f"| {name} | {p:.4f} | {n} | {t:.2f} | {n / t:.0f} |")
    lines += [
        "",
        f"Relative difference datavet vs transformers loop: {rel:.2e} (target < 1e-4).",
        "lm-eval scores every token (the first one conditioned on its prefix token) in disjoint rolling "
        "windows "
        "with less context, so its perplexity differs by design; compare its tokens/s.",
    ]
    if note:
        lines.append(note)
    table = "\n".join(lines)
    print(table)
    write_section("perplexity", table)


if __name__ == "__main__":
    main()

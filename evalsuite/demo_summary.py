"""The README's demo paragraph, printed from a demo run's own outputs: `evalsuite demo --readme-summary`.

Every number comes from a JSON file the run wrote under its output folder: `tweets-qa/check.json` (the QA
findings), `tweets-compare/compare.json` and `bbc-compare/compare.json` (base vs tuned, with the paired
bootstrap CI of each delta), `minilm-tweets/summary.json` (the MiniLM fine-tune's training tokens/s: this
machine's speed, the reference a reader scales the times by; `bench/trainer.py` measures the same figure) and
`stages.json` / `run.json` (stage times, CPU count, load average). Nothing is typed in by hand, so the README
can quote a run of the current tree and say where it was measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.errors import UsageError


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{path} does not exist: no finished demo run in {path.parent.parent}",
            fix="run `evalsuite demo --out DIR` first, then `evalsuite demo --out DIR --readme-summary`",
        ) from None


def _num(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}" if abs(x) >= 10 else f"{x:.{digits}f}"


def _pair(m: dict, digits: int = 3) -> str:
    return f"{_num(m['base'], digits)} -> {_num(m['value'], digits)}"


def _ci(m: dict) -> str:
    lo, hi = m["delta_ci"]
    return f"[{lo:+.3f}, {hi:+.3f}]"


def _qa(check: dict) -> str:
    by = {c["name"]: c for c in check.get("checks", [])}
    parts = []
    if "exact_duplicate" in by:
        parts.append(f"{by['exact_duplicate']['count']:,} exact-duplicate rows")
    if "near_duplicate" in by:
        parts.append(f"{by['near_duplicate']['count']:,} near-duplicate rows")
    if "conflicting_labels" in by:
        s = by["conflicting_labels"].get("summary", {})
        parts.append(
            f"{s.get('rows', by['conflicting_labels']['count']):,} rows in {s.get('conflict_groups', '?')} "
            "groups of (near-)identical texts with conflicting labels"
        )
    mojibake = by.get("normalization", {}).get("summary", {}).get("by_kind", {}).get("mojibake_unrepaired")
    if mojibake:
        parts.append(f"{mojibake:,} unrepairable mojibake rows")
    shares = by.get("class_balance", {}).get("summary", {}).get("shares") or {}
    if shares:
        low = min(shares, key=shares.get)
        parts.append(f"the under-represented {low} class ({shares[low]:.1%})")
    if "pii" in by:
        parts.append(f"{by['pii']['count']:,} rows with PII")
    rows = check.get("input", {}).get("rows_read")
    return (f"({rows:,} rows) " if rows else "") + ", ".join(parts)


def readme_summary(out: str | Path) -> str:
    """The demo paragraph (markdown) for the run in `out`; raises UsageError when the run is missing."""
    out = Path(out)
    cls = _read(out / "tweets-compare" / "compare.json")
    gen = _read(out / "bbc-compare" / "compare.json")
    qa = _read(out / "tweets-qa" / "check.json")
    train = _read(out / "minilm-tweets" / "summary.json")
    stages = _read(out / "stages.json")
    run = _read(out / "run.json") if (out / "run.json").exists() else {}
    cm, gm = cls["metrics"], gen["metrics"]
    f1, acc = cm["f1_macro"], cm["accuracy"]
    ppl, rouge = gm["perplexity"], gm["rougeL"]
    lines = [
        f"- **the QA report of `bundled:tweets`** {_qa(qa)};",
        "- **MiniLM fine-tuned vs a linear probe on the frozen encoder** "
        f"({cls['n_items']:,} held-out tweets): "
        f"macro-F1 {_pair(f1)}, delta CI {_ci(f1)} ({f1['status']}); "
        f"accuracy {_pair(acc)}, delta CI {_ci(acc)};",
        f"- **SmolLM2 LoRA vs untuned on BBC lead -> headline** ({gen['n_items']:,} held-out articles): "
        "headline "
        f"perplexity {_pair(ppl)} (CI {_ci(ppl)}), "
        f"ROUGE-L {_pair(rouge)} (CI {_ci(rouge)}, {rouge['status']}), "
        f"BLEU {_pair(gm['bleu'])}, chrF {_pair(gm['chrf'])}.",
    ]
    total = sum(s["seconds"] for s in stages)
    cpu = sum(s.get("cpu_seconds", 0.0) for s in stages)
    slow = sorted(stages, key=lambda s: -s["seconds"])[:4]
    precision = run.get("precision", "fp32")
    where = [f"{train['tokens_per_s']:,.0f} MiniLM training tokens/s in {precision}"]
    if run.get("cpu_count"):
        where.append(f"{run['cpu_count']} CPUs")
    if run.get("load_avg") is not None:
        where.append(
            f"1-minute load average {run['load_avg'][0]:.1f} at the start, "
            f"{run['load_avg'][1]:.1f} at the end"
        )
    lines.append("")
    lines.append(f"Measured by `evalsuite demo` (seed {run.get('seed', 0)}, models in {precision}): "
                 f"stages {total:,.0f} s wall, "
                 f"{cpu:,.0f} s CPU; slowest " + ", ".join(f"{s['name']} {s['seconds']:.0f} s" for s in slow)
                 + f". Machine: {', '.join(where)} (scale the times by your machine's figure from "
                 "`bench/trainer.py`).")
    return "\n".join(lines)

"""`token_audit` on Ray: token counts in a batch map, the check's result from their aggregates.

Each worker is a Ray Data actor that loads the tokenizer once (`curate.checks.token_audit.load_tokenizer`,
which resolves a short model name to its local folder through `common.models`: no hub is needed, and each
node needs datavet and the model packages installed, as for any run) and counts every record of its batches
with the check's own `audit` (same rendering, chat template and special tokens). A batch returns a summary,
not its rows: the distribution of token counts (and of prompt token counts), the flagged rows (truncated, or
a prompt that fills max length) with their pos, and the chat template notes with where each first appears.
The driver merges them: quantiles come from the exact distributions, findings are put in the local order
(row order, then the check's sort), so every count and finding equals the local engine's.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from schemas.findings import CheckResult, CheckStatus, Finding, Severity


class TokenCounter:
    """Ray Data actor: the token summary of each batch of normalized rows (columns pos, id, rec)."""

    def __init__(self, name: str, kind: str, max_length: int, batch_size: int):
        from curate.checks.token_audit import load_tokenizer
        from schemas.records import RecordKind

        self.tok = load_tokenizer(name)
        self.kind = RecordKind(kind)
        self.max_length = max_length
        self.batch_size = batch_size

    def __call__(self, batch: Any) -> dict[str, list]:
        from curate.chat_template import prepare_chat
        from curate.checks.token_audit import audit
        from schemas.records import RecordKind

        records = [json.loads(x) for x in batch["rec"].tolist()]
        pos, ids = batch["pos"].tolist(), batch["id"].tolist()
        a = audit(records, self.kind, self.tok, self.max_length, self.batch_size)
        full, prompt = a["tokens"], a["prompt_tokens"]
        flagged = []
        for i, n in enumerate(full):
            p = prompt[i] if prompt is not None else None
            if (p is not None and p >= self.max_length) or n > self.max_length:
                flagged.append((pos[i], ids[i], n, p))
        notes: dict[str, list] = {}   # note -> [count, (pos, index in its row) of its first appearance]
        if self.kind is RecordKind.chat:
            for p_, r in zip(pos, records, strict=True):
                for k, note in enumerate(prepare_chat(r, self.tok).notes):
                    got = notes.setdefault(note, [0, (p_, k)])
                    got[0] += 1
        out = {"tokens": dict(Counter(full)), "prompt": dict(Counter(prompt)) if prompt is not None else None,
               "flagged": flagged, "notes": notes}
        return {"s": [json.dumps(out)]}


def token_stats(rows: Any, name: str, kind: str, max_length: int, batch_size: int) -> dict:
    """The merged batch summaries of `rows` (the normalized rows, `rows.row_columns`)."""
    import ray

    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    parts = rows.select_columns(["pos", "id", "rec"]).map_batches(
        TokenCounter, batch_format="pandas", batch_size=batch_size, concurrency=(1, cpus),
        fn_constructor_kwargs={"name": name, "kind": kind, "max_length": max_length,
                               "batch_size": batch_size},
    ).take_all()
    tokens: Counter[int] = Counter()
    prompt: Counter[int] | None = None
    flagged: list = []
    notes: dict[str, list] = {}
    for row in parts:
        part = json.loads(row["s"])
        tokens.update({int(k): v for k, v in part["tokens"].items()})
        if part["prompt"] is not None:
            prompt = (prompt if prompt is not None else Counter())
            prompt.update({int(k): v for k, v in part["prompt"].items()})
        flagged += [tuple(f) for f in part["flagged"]]
        for note, (c, first) in part["notes"].items():
            got = notes.setdefault(note, [0, tuple(first)])
            got[0] += c
            got[1] = min(got[1], tuple(first))
    flagged.sort(key=lambda f: f[0])
    ordered = sorted(notes.items(), key=lambda kv: kv[1][1])
    return {"tokens": tokens, "prompt": prompt, "flagged": flagged,
            "notes": {note: c for note, (c, _) in ordered}}


def _quantiles(dist: Counter) -> dict[str, int]:
    """`curate.checks.token_audit._quantiles` over the multiset `dist` (value -> count)."""
    values = sorted(dist)
    n = sum(dist.values())

    def at(k: int) -> int:
        acc = 0
        for v in values:
            acc += dist[v]
            if k < acc:
                return v
        return values[-1]

    pick = lambda q: at(min(n - 1, int(q * (n - 1) + 0.5)))  # noqa: E731
    return {"min": values[0], "median": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": values[-1]}


def token_audit_result(check: Any, rows: Any, kind: str, options: dict) -> CheckResult:
    """`TokenAuditCheck.run` from the distributed counts (its findings, order, summary and message)."""
    from curate.checks.token_audit import _has_template, load_tokenizer, sequences
    from schemas.records import RecordKind

    name, max_length = options.get("tokenizer"), options.get("max_length")
    if not name or not max_length:
        return check.result(
            [], status=CheckStatus.skipped, message="not run: pass --tokenizer MODEL --max-length N"
        )
    max_length = int(max_length)
    tok = load_tokenizer(name)   # on the driver too: a name that does not load fails here, as locally
    rk = RecordKind(kind)
    sequences([], rk, tok)       # chat data and a tokenizer without a chat template: the local error
    st = token_stats(rows, name, kind, max_length, check.params.batch_size)
    if not st["tokens"]:
        return check.result([], status=CheckStatus.skipped, message="no records")
    if rk is RecordKind.text:
        return _packed(check, name, max_length, st["tokens"], tok)
    findings: list[Finding] = []
    no_answer = 0
    for _, rid, n, p in st["flagged"]:
        if p is not None and p >= max_length:
            no_answer += 1
            findings.append(Finding(id=rid, reason="no_completion_tokens", severity=Severity.error, tokens=n,
                                    prompt_tokens=p,
                                    message=f"prompt alone is {p:,} tokens >= max length {max_length:,}"))
        else:
            cut = f"{n:,} tokens, {n - max_length:,} cut at max length {max_length:,}"
            findings.append(Finding(id=rid, reason="truncated", tokens=n, lost_tokens=n - max_length,
                                    message=cut))
    findings.sort(key=lambda f: (f.reason != "no_completion_tokens", -f.tokens))
    tokens = st["tokens"]
    rows_n = sum(tokens.values())
    truncated = sum(c for n, c in tokens.items() if n > max_length)
    summary = {"tokenizer": name, "max_length": max_length, "kind": rk.value,
               "chat_template": _has_template(tok), "rows": rows_n,
               "truncated": truncated, "truncated_share": round(truncated / rows_n, 4),
               "no_completion_tokens": no_answer, "tokens": _quantiles(tokens),
               "tokens_lost": sum(max(0, n - max_length) * c for n, c in tokens.items())}
    if st["prompt"] is not None:
        summary["prompt_tokens"] = _quantiles(st["prompt"])
    if rk is RecordKind.chat:
        summary["template_notes"] = st["notes"]
    return check.result(findings, summary=summary)


def _packed(check: Any, name: str, max_length: int, tokens: Counter, tok: Any) -> CheckResult:
    """`TokenAuditCheck._packed` (text records packed into blocks) from the token count distribution."""
    from curate.checks.token_audit import _has_template, packed_summary

    total = sum(n * c for n, c in tokens.items())
    longer = sum(c for n, c in tokens.items() if n > max_length)
    summary, msg = packed_summary(name, max_length, _has_template(tok), sum(tokens.values()), total, longer,
                                  _quantiles(tokens))
    return check.result([], status=CheckStatus.passed, summary=summary, message=msg)

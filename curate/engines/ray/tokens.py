"""`token_audit` on Ray: token counts in a batch map, the check's result from their aggregates.

Each worker is a Ray Data actor that loads the tokenizer once (`curate.checks.token_audit.load_tokenizer`,
which resolves a short model name to its local folder through `common.models`: no hub is needed, and each
node needs datavet and the model packages installed, as for any run) and counts every record of its batches
with the check's own `audit` (same rendering, chat template and special tokens). A batch returns the
findings of its flagged rows (truncated, or a prompt that fills max length), built there as the local check
builds them, and one summary row: the distribution of token counts (and of prompt token counts) and the
chat template notes with where each first appears. The findings are written by the workers
(`curate.engines.ray.findings`, ordered by the check's sort: no_completion_tokens first, then by tokens,
longest first, then row order); the driver merges the summaries as they stream in (quantiles from the exact
distributions), so every count and finding equals the local engine's and the driver holds no row.
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

    def __call__(self, batch: Any) -> Any:
        from curate.chat_template import prepare_chat
        from curate.checks.token_audit import audit
        from curate.engines.ray.findings import finding_row, frame
        from schemas.records import RecordKind

        records = [json.loads(x) for x in batch["rec"].tolist()]
        pos, ids = batch["pos"].tolist(), batch["id"].tolist()
        a = audit(records, self.kind, self.tok, self.max_length, self.batch_size)
        full, prompt = a["tokens"], a["prompt_tokens"]
        found = []
        for i, n in enumerate(full):
            p = prompt[i] if prompt is not None else None
            if (p is not None and p >= self.max_length) or n > self.max_length:
                f = flag(ids[i], n, p, self.max_length)
                found.append(finding_row(pos[i], 0, [int(f.reason != NO_ANSWER), -n, pos[i]], f))
        notes: dict[str, list] = {}   # note -> [count, (pos, index in its row) of its first appearance]
        if self.kind is RecordKind.chat:
            for p_, r in zip(pos, records, strict=True):
                for k, note in enumerate(prepare_chat(r, self.tok).notes):
                    got = notes.setdefault(note, [0, (p_, k)])
                    got[0] += 1
        out = {"tokens": dict(Counter(full)), "prompt": dict(Counter(prompt)) if prompt is not None else None,
               "notes": notes}
        # the batch's summary rides along as one row at pos SUMMARY (`token_stats` splits the two)
        return frame([*found, (SUMMARY, 0, "[]", "", "", 0, 0, json.dumps(out))])


NO_ANSWER = "no_completion_tokens"
SUMMARY = -1   # the pos of a batch's summary row among its findings


def flag(rid: str, n: int, p: int | None, max_length: int) -> Finding:
    """The local check's finding for a flagged row: `n` tokens, `p` prompt tokens (None: no prompt)."""
    if p is not None and p >= max_length:
        return Finding(id=rid, reason=NO_ANSWER, severity=Severity.error, tokens=n, prompt_tokens=p,
                       message=f"prompt alone is {p:,} tokens >= max length {max_length:,}")
    cut = f"{n:,} tokens, {n - max_length:,} cut at max length {max_length:,}"
    return Finding(id=rid, reason="truncated", tokens=n, lost_tokens=n - max_length, message=cut)


def token_stats(rows: Any, name: str, kind: str, max_length: int, batch_size: int) -> dict:
    """The merged batch summaries of `rows` (the normalized rows, `rows.row_columns`), merged as they stream
    in, and `found`: the findings dataset of the flagged rows (never on the driver)."""
    import ray

    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    both = rows.select_columns(["pos", "id", "rec"]).map_batches(
        TokenCounter, batch_format="pandas", batch_size=batch_size, concurrency=(1, cpus),
        fn_constructor_kwargs={"name": name, "kind": kind, "max_length": max_length,
                               "batch_size": batch_size},
    ).materialize()
    tokens: Counter[int] = Counter()
    prompt: Counter[int] | None = None
    notes: dict[str, list] = {}
    summaries = both.map_batches(lambda b: b[b["pos"] == SUMMARY][["f"]], batch_format="pandas")
    for row in summaries.iter_rows():
        part = json.loads(row["f"])
        tokens.update({int(k): v for k, v in part["tokens"].items()})
        if part["prompt"] is not None:
            prompt = (prompt if prompt is not None else Counter())
            prompt.update({int(k): v for k, v in part["prompt"].items()})
        for note, (c, first) in part["notes"].items():
            got = notes.setdefault(note, [0, tuple(first)])
            got[0] += c
            got[1] = min(got[1], tuple(first))
    ordered = sorted(notes.items(), key=lambda kv: kv[1][1])
    return {"tokens": tokens, "prompt": prompt, "notes": {note: c for note, (c, _) in ordered},
            "found": both.map_batches(lambda b: b[b["pos"] != SUMMARY], batch_format="pandas")}


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


def token_audit_result(check: Any, rows: Any, kind: str, options: dict, sink: Any) -> CheckResult:
    """`TokenAuditCheck.run` from the distributed counts (its findings, order, summary and message); the
    findings go to `findings/token_audit.jsonl` through `sink` (`curate.engines.ray.findings.Sink`)."""
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
    sunk = sink.write(st["found"], "findings/token_audit.jsonl")
    no_answer = sunk.reasons.get(NO_ANSWER, 0)
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
    return sink.result(check, sunk, summary)


def _packed(check: Any, name: str, max_length: int, tokens: Counter, tok: Any) -> CheckResult:
    """`TokenAuditCheck._packed` (text records packed into blocks) from the token count distribution."""
    from curate.checks.token_audit import _has_template, packed_summary

    total = sum(n * c for n, c in tokens.items())
    longer = sum(c for n, c in tokens.items() if n > max_length)
    summary, msg = packed_summary(name, max_length, _has_template(tok), sum(tokens.values()), total, longer,
                                  _quantiles(tokens))
    return check.result([], status=CheckStatus.passed, summary=summary, message=msg)

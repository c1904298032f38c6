"""`token_audit`: what `--max-length` does to each record, counted with the real tokenizer and chat template.

Runs only with `--tokenizer MODEL --max-length N` (else `skipped`). The tokenizer is
`AutoTokenizer.from_pretrained(finetune.models.resolve_model(MODEL).path)`; texts are tokenized in batches
with the fast tokenizer. What is counted, per record kind:
- classification: the text with the tokenizer's special tokens (what a sequence classifier sees).
- completion: the prompt rendered as a user turn with the generation prompt (the chat template when the
  tokenizer has one, else the raw prompt), then the completion and EOS — the sequence a completion-only
  loss trains on.
- chat: the whole conversation through the chat template; the prompt part is everything before the first
  assistant turn.
- text: each document with the tokenizer's special tokens. Continued pre-training packs documents into
  blocks of max length, so nothing is truncated: the summary gives the total tokens, the number of blocks
  and how many documents span more than one block (no findings, status pass).

Reasons:
- `truncated` (warning): the sequence is longer than max length; `tokens` and `lost_tokens` say by how much.
- `no_completion_tokens` (error): the prompt alone fills max length, so under completion-only loss the row
  trains on nothing (every answer token is cut) — no trainer reports this before training.
No thresholds beyond max length: any truncation is worth seeing; the summary gives the token quantiles.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field

from curate.chat_template import prepare_chat, render
from curate.checks.base import Check, CheckContext
from curate.errors import CurateError
from schemas.findings import CheckResult, CheckStatus, Finding, Severity
from schemas.records import RecordKind
from schemas.report import Block, TableBlock


class TokenAuditSummary(TypedDict):
    """The summary of a `token_audit` result. `tokens` (and `prompt_tokens`, for completion and chat data) are
    quantiles of tokens per record; text data is packed, so it has the block counts and nothing truncated."""

    tokenizer: str
    max_length: int
    kind: str
    chat_template: bool
    rows: int
    truncated: int
    tokens_lost: int
    tokens: dict[str, int]
    truncated_share: NotRequired[float]
    no_completion_tokens: NotRequired[int]
    prompt_tokens: NotRequired[dict[str, int]]
    template_notes: NotRequired[dict[str, int]]
    tokens_total: NotRequired[int]
    blocks: NotRequired[int]
    documents_longer_than_a_block: NotRequired[int]


class TokenAuditParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_size: int = Field(1000, ge=1, description="Texts per fast-tokenizer call")


def load_tokenizer(name: str):
    """A fast tokenizer for a short model name (minilm, smollm2), a local folder, or a hub id."""
    from transformers import AutoTokenizer

    from common.models import resolve_model

    ref = resolve_model(name)
    try:
        return AutoTokenizer.from_pretrained(ref.path)
    except (OSError, ValueError) as e:
        raise CurateError(
            f"cannot load a tokenizer from {ref.path}: {e}",
            fix="pass --tokenizer minilm, smollm2, or a folder holding tokenizer files",
        ) from None


def _lengths(tok, texts: list[str], batch_size: int, special: bool) -> list[int]:
    out: list[int] = []
    for i in range(0, len(texts), batch_size):
        enc = tok(texts[i:i + batch_size], add_special_tokens=special, truncation=False)
        out.extend(len(x) for x in enc["input_ids"])
    return out


def _has_template(tok) -> bool:
    return bool(getattr(tok, "chat_template", None))


def sequences(
    records: list[dict[str, Any]], kind: RecordKind, tok
) -> tuple[list[str], list[str] | None, bool]:
    """The full training strings and, for generative data, the prompt prefixes; plus whether the strings
    already hold the special tokens (rendered by a chat template)."""
    eos = tok.eos_token or ""
    if kind is RecordKind.classification or kind is RecordKind.text:
        return [r["text"] for r in records], None, False
    if kind is RecordKind.completion:
        if _has_template(tok):
            prompts = [tok.apply_chat_template([{"role": "user", "content": r["prompt"]}], tokenize=False,
                                               add_generation_prompt=True) for r in records]
        else:
            prompts = [r["prompt"] + "\n" for r in records]
        return [p + r["completion"] + eos for p, r in zip(prompts, records, strict=True)], prompts, True
    if not _has_template(tok):
        raise CurateError("the tokenizer has no chat template, so chat records cannot be rendered",
                          fix="use a chat model's tokenizer (e.g. --tokenizer smollm2)")
    fulls, prompts = [], []
    for r in records:
        chat = prepare_chat(r, tok)
        fulls.append(render(tok, chat))
        first = next((i for i, m in enumerate(chat.messages) if m["role"] == "assistant"), len(chat.messages))
        prompts.append(render(tok, chat, first, generation_prompt=True))
    return fulls, prompts, True


def template_notes(records: list[dict[str, Any]], tok) -> dict[str, int]:
    """How many chat records the template cannot render natively (tool calls, tool definitions), by note."""
    from collections import Counter

    return dict(Counter(n for r in records for n in prepare_chat(r, tok).notes))


def audit(
    records: list[dict[str, Any]], kind: RecordKind, tok, max_length: int, batch_size: int = 1000
) -> dict:
    """Token counts per record and which records `max_length` truncates or leaves with no answer tokens."""
    fulls, prompts, rendered = sequences(records, kind, tok)
    full = _lengths(tok, fulls, batch_size, special=not rendered)
    prompt = _lengths(tok, prompts, batch_size, special=False) if prompts is not None else None
    return {"tokens": full, "prompt_tokens": prompt}


def _quantiles(vals: list[int]) -> dict[str, int]:
    s = sorted(vals)
    pick = lambda q: s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]  # noqa: E731
    return {"min": s[0], "median": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": s[-1]}


def packed_summary(name: str, max_length: int, chat_template: bool, rows: int, total: int, longer: int,
                   tokens: dict[str, int]) -> tuple[TokenAuditSummary, str]:
    """The summary and message of text records packed into blocks of `max_length` (both engines)."""
    summary: TokenAuditSummary = {
        "tokenizer": name,
        "max_length": max_length,
        "kind": "text",
        "chat_template": chat_template,
        "rows": rows,
        "tokens_total": total,
        "blocks": -(-total // max_length),
        "documents_longer_than_a_block": longer,
        "truncated": 0,
        "tokens_lost": 0,
        "tokens": tokens,
    }
    msg = (
        f"{total:,} tokens pack into {summary['blocks']:,} blocks of {max_length:,}; "
        "nothing is truncated. "
        f"{longer:,} document(s) span more than one block (a continuation starts a block without the "
        "text before the cut)."
    )
    return summary, msg


class TokenAuditCheck(Check):
    name = "token_audit"
    description = "records --max-length truncates, and records that lose every completion token"
    Params = TokenAuditParams

    def run(self, ctx: CheckContext) -> CheckResult:
        name, max_length = ctx.options.get("tokenizer"), ctx.options.get("max_length")
        if not name or not max_length:
            return self.result(
                [], status=CheckStatus.skipped, message="not run: pass --tokenizer MODEL --max-length N"
            )
        if not ctx.data.records:
            return self.result([], status=CheckStatus.skipped, message="no records")
        tok = load_tokenizer(name)
        kind = RecordKind(ctx.data.kind)
        a = audit(ctx.data.records, kind, tok, int(max_length), self.params.batch_size)
        if kind is RecordKind.text:
            return self._packed(name, int(max_length), a["tokens"], tok)
        findings: list[Finding] = []
        no_answer = 0
        for i, rid in enumerate(ctx.ids):
            n = a["tokens"][i]
            p = a["prompt_tokens"][i] if a["prompt_tokens"] is not None else None
            if p is not None and p >= max_length:
                no_answer += 1
                findings.append(
                    Finding(
                        id=rid,
                        reason="no_completion_tokens",
                        severity=Severity.error,
                        tokens=n,
                        prompt_tokens=p,
                        message=f"prompt alone is {p:,} tokens >= max length {max_length:,}",
                    )
                )
            elif n > max_length:
                findings.append(
                    Finding(
                        id=rid,
                        reason="truncated",
                        tokens=n,
                        lost_tokens=n - max_length,
                        message=f"{n:,} tokens, {n - max_length:,} cut at max length {max_length:,}",
                    )
                )
        findings.sort(key=lambda f: (f.reason != "no_completion_tokens", -f.tokens))
        truncated = sum(1 for n in a["tokens"] if n > max_length)
        summary: TokenAuditSummary = {
            "tokenizer": name, "max_length": int(max_length), "kind": kind.value,
            "chat_template": _has_template(tok), "rows": len(a["tokens"]),
            "truncated": truncated, "truncated_share": round(truncated / len(a["tokens"]), 4),
            "no_completion_tokens": no_answer, "tokens": _quantiles(a["tokens"]),
            "tokens_lost": sum(max(0, n - max_length) for n in a["tokens"]),
        }
        if a["prompt_tokens"] is not None:
            summary["prompt_tokens"] = _quantiles(a["prompt_tokens"])
        if kind is RecordKind.chat:
            summary["template_notes"] = template_notes(ctx.data.records, tok)
        return self.result(findings, summary=summary)

    def _packed(self, name: str, max_length: int, tokens: list[int], tok) -> CheckResult:
        """Text records: what packing into blocks of `max_length` makes of them (nothing is cut)."""
        total = sum(tokens)
        longer = sum(1 for n in tokens if n > max_length)
        summary, msg = packed_summary(name, max_length, _has_template(tok), len(tokens), total, longer,
                                      _quantiles(tokens))
        return self.result([], status=CheckStatus.passed, summary=summary, message=msg)

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """Token quantiles per record: the full sequence, and the prompt alone where there is one."""
        s = cast(TokenAuditSummary, result.summary)
        if not s.get("tokens"):
            return []
        rows = [["full", *s["tokens"].values()]]
        prompt = s.get("prompt_tokens")
        if prompt:
            rows.append(["prompt", *prompt.values()])
        return [TableBlock(title="Tokens per record", columns=["sequence", *s["tokens"]], rows=rows,
                           page_size=None)]

"""Perplexity by the Hugging Face sliding-window method, batched across documents.

Each document is scored on its own: windows of `max_length` tokens move by `stride`; each window scores only
the tokens not scored by the previous window, so every token is scored once with the longest context the
window allows (transformers docs, "Perplexity of fixed-length models"). The document's first token is context
only; no BOS is added unless the tokenizer adds one itself. For prompt/completion (SFT) data only completion
tokens are scored. The corpus score is the token-weighted mean NLL (exact per-token sums, not the docs'
loss x length approximation). Windows from all documents are batched (right padding; causal attention means
padding never changes real positions). With stride == max_length (no overlap) each window's first token has
no context and is skipped, exactly as in the transformers loop; use stride < max_length to score every token.
Works on any causal LM module, including an in-memory PEFT model.

Reported, each labelled: token perplexity exp(NLL/token), bits per byte (NLL in bits / UTF-8 bytes of the
scored text) and word perplexity exp(NLL/whitespace words of the scored text) as in lm-eval.

`sft_perplexity` scores prompt/completion or chat records the way the trainer saw them: each record goes
through `finetune.data.build_sft_example(record, tokenizer, max_length, loss_on="completion")` (the chat
template when the tokenizer has one, else the trainer's plain `prompt\ncompletion<eos>`), truncated to the
trainer's `max_length`, and only the tokens that carried loss in training are scored, in one forward pass per
record (no sliding window: the trainer never saw more than `max_length` tokens). Its signature names the
template, the max length and "completion tokens only", so it is never mixed up with the raw sliding score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from common.precision import autocast
from common.progress import track
from schemas.errors import UsageError


@dataclass
class PerplexityResult:
    """Corpus perplexity numbers and the settings that produced them."""

    token_perplexity: float
    nll_per_token: float
    bits_per_byte: float
    word_perplexity: float
    n_tokens: int
    n_bytes: int
    n_words: int
    n_documents: int
    signature: str
    per_document_nll: list[float] = field(default_factory=list)
    doc_nll_sum: list[float] = field(default_factory=list)  # per document: summed NLL (nats) of scored tokens
    # per document: scored tokens (0: nothing left to score)
    doc_tokens: list[int] = field(default_factory=list)
    truncated: int = 0  # records cut at max_length (template scoring only)

    @classmethod
    def from_sums(cls, doc_nll: list[float], doc_tok: list[int], texts: list[str], signature: str,
                  **extra: Any) -> PerplexityResult:
        """Corpus numbers from per-document NLL sums and scored-token counts; `texts` are the scored texts
        (for bytes and words). Token-weighted: exp(sum NLL / sum tokens), never a mean of per-document
        scores."""
        total_nll, total_tok = sum(doc_nll), sum(doc_tok)
        n_bytes = sum(len(t.encode("utf-8")) for t in texts)
        n_words = sum(len(t.split()) for t in texts)
        return cls(
            token_perplexity=math.exp(total_nll / total_tok), nll_per_token=total_nll / total_tok,
            bits_per_byte=total_nll / math.log(2) / max(n_bytes, 1),
            word_perplexity=math.exp(total_nll / max(n_words, 1)), n_tokens=total_tok, n_bytes=n_bytes,
            n_words=n_words, n_documents=len(doc_tok), signature=signature,
            per_document_nll=[n / t if t else float("nan") for n, t in zip(doc_nll, doc_tok, strict=True)],
            doc_nll_sum=doc_nll, doc_tokens=doc_tok, **extra)

    def metrics(self) -> dict[str, dict]:
        """The JSON contract: {name: {"value", "ci", "signature"}}."""
        return {k: {"value": getattr(self, k), "ci": None, "signature": self.signature}
                for k in ("token_perplexity", "bits_per_byte", "word_perplexity")}


def windows(n_tokens: int, max_length: int, stride: int) -> list[tuple[int, int, int]]:
    """(begin, end, first_scored) windows over a document of n tokens; token 0 is never scored."""
    out, prev_end = [], 0
    for begin in range(0, n_tokens, stride):
        end = min(begin + max_length, n_tokens)
        first = max(prev_end, begin + 1, 1)
        if end > first:
            out.append((begin, end, first))
        prev_end = end
        if end == n_tokens:
            break
    return out


def _encode(tokenizer: Any, doc: Any) -> tuple[list[int], list[bool], str]:
    """Token ids, which ids are scored, and the scored text (for bytes/words)."""
    if isinstance(doc, str):
        ids = tokenizer(doc)["input_ids"]
        return ids, [True] * len(ids), doc
    if isinstance(doc, dict) and "prompt" in doc and "completion" in doc:
        p = tokenizer(doc["prompt"])["input_ids"]
        c = tokenizer(doc["completion"], add_special_tokens=False)["input_ids"]
        return p + c, [False] * len(p) + [True] * len(c), doc["completion"]
    if isinstance(doc, dict) and "text" in doc:
        return _encode(tokenizer, doc["text"])
    raise UsageError("perplexity needs text records or prompt/completion records",
                     fix="load the data with kind=text (documents) or kind=completion")


def perplexity(model: Any, tokenizer: Any, documents: Sequence[Any], *, max_length: int | None = None,
               stride: int | None = None, batch_size: int = 8, precision: str = "fp32") -> PerplexityResult:
    """Sliding-window perplexity of a causal LM over documents.

    Args:
        model: A causal LM (transformers or PEFT), already in eval mode or not (set here).
        tokenizer: Its tokenizer.
        documents: Strings, `{"text"}` or `{"prompt", "completion"}` dicts (completion tokens only scored).
        max_length: Window length; defaults to the model's max positions (capped at 1024).
        stride: Window step; defaults to max_length // 2.
        batch_size: Windows per forward pass.
        precision: What the forward passes compute in, resolved (`common.precision`): "fp32", or "bf16"
            autocast (named in the signature; the NLL is summed in fp32 either way).
    """
    import torch

    cfg_max = getattr(model.config, "max_position_embeddings", 1024) or 1024
    max_length = int(max_length or min(cfg_max, 1024))
    stride = int(stride or max(1, max_length // 2))
    if max_length < 2 or not 1 <= stride <= max_length:
        raise UsageError(f"bad window: max_length={max_length}, stride={stride}",
                         fix="use max_length >= 2 and 1 <= stride <= max_length")
    enc = [_encode(tokenizer, d) for d in documents]
    jobs = []  # (doc index, begin, end, first scored)
    for di, (ids, _, _) in enumerate(enc):
        jobs += [(di, b, e, f) for b, e, f in windows(len(ids), max_length, stride)]
    # longest first keeps padding waste small inside each batch
    jobs.sort(key=lambda j: j[2] - j[1], reverse=True)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    doc_nll = [0.0] * len(enc)
    doc_tok = [0] * len(enc)
    model.eval()
    with torch.inference_mode(), autocast(precision):
        for s in track(
            range(0, len(jobs), batch_size), f"perplexity ({len(jobs):,} windows)", unit="batches"
        ):
            batch = jobs[s:s + batch_size]
            width = max(e - b for _, b, e, _ in batch)
            inp = torch.full((len(batch), width), pad, dtype=torch.long)
            att = torch.zeros((len(batch), width), dtype=torch.long)
            tgt_mask = torch.zeros((len(batch), width), dtype=torch.bool)
            for k, (di, b, e, f) in enumerate(batch):
                ids, scored, _ = enc[di]
                inp[k, : e - b] = torch.tensor(ids[b:e])
                att[k, : e - b] = 1
                for t in range(f, e):
                    tgt_mask[k, t - b] = scored[t]
            logits = model(input_ids=inp, attention_mask=att).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            tok_lp = logp.gather(-1, inp[:, 1:].unsqueeze(-1)).squeeze(-1)
            m = tgt_mask[:, 1:]
            nll = -(tok_lp * m).sum(dim=1)
            for k, (di, _, _, _) in enumerate(batch):
                doc_nll[di] += float(nll[k])
                doc_tok[di] += int(m[k].sum())
    total_tok = sum(doc_tok)
    if total_tok == 0:
        raise UsageError("no tokens to score (every document is a single token or has an empty completion)",
                         fix="give documents with at least two tokens")
    texts = [t for _, _, t in enc]
    sig = (
        f"ppl:sliding|max_length:{max_length}|stride:{stride}"
        f"|bos:{'tokenizer' if _adds_bos(tokenizer) else 'no'}"
        "|scored:"
        f"{'completion' if any(isinstance(d, dict) and 'completion' in d for d in documents) else 'all'}"
        "|agg:token_weighted"
    ) + _precision_part(precision)
    return PerplexityResult.from_sums(doc_nll, doc_tok, texts, sig)


def _precision_part(precision: str) -> str:
    """The signature's precision part: none for fp32 (signatures from before `precision` stay the same)."""
    return "" if precision == "fp32" else f"|precision:{precision}"


TEMPLATES = ("auto", "raw")


def template_name(tokenizer: Any) -> str:
    """How `build_sft_example` formats a record for this tokenizer: "chat" (its chat template) or "plain"."""
    return "chat" if getattr(tokenizer, "chat_template", None) else "plain"


def sft_perplexity(model: Any, tokenizer: Any, records: Sequence[dict], *, max_length: int,
                   batch_size: int = 8, precision: str = "fp32") -> PerplexityResult:
    """Completion-only perplexity of SFT records under the trainer's prompt formatting.

    Args:
        model: A causal LM (transformers or PEFT).
        tokenizer: Its tokenizer (its chat template, when present, formats the records).
        records: `{"prompt","completion"}` or `{"messages"}` dicts.
        max_length: Truncation length; use the trainer's `max_length` to score what it trained on.
        batch_size: Records per forward pass.
        precision: "fp32", or "bf16" autocast, resolved (`common.precision`; named in the signature).

    Raises:
        UsageError: When a record is not SFT-shaped, or no record keeps a completion token.
    """
    import torch
    import torch.nn.functional as F

    from finetune.data import IGNORE, build_sft_example

    if any(not isinstance(r, dict) or not ("messages" in r or ("prompt" in r and "completion" in r))
           for r in records):
        raise UsageError("template perplexity needs prompt/completion or chat records",
                         fix="load the data with --kind completion (or chat), or use --template raw for text")
    if max_length < 2:
        raise UsageError(f"bad max_length={max_length}", fix="use the trainer's max_length (>= 2)")
    exs = [build_sft_example(r, tokenizer, max_length, loss_on="completion") for r in records]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    doc_nll, doc_tok = [0.0] * len(exs), [0] * len(exs)
    # similar lengths: little padding
    order = sorted(range(len(exs)), key=lambda i: -len(exs[i]["input_ids"]))
    model.eval()
    with torch.inference_mode(), autocast(precision):
        for s in track(
            range(0, len(order), batch_size), f"perplexity ({len(order):,} records)", unit="batches"
        ):
            idx = order[s:s + batch_size]
            width = max(len(exs[i]["input_ids"]) for i in idx)
            inp = torch.full((len(idx), width), pad, dtype=torch.long)
            att = torch.zeros((len(idx), width), dtype=torch.long)
            lab = torch.full((len(idx), width), IGNORE, dtype=torch.long)
            for k, i in enumerate(idx):
                n = len(exs[i]["input_ids"])
                inp[k, :n] = torch.tensor(exs[i]["input_ids"])
                att[k, :n] = 1
                lab[k, :n] = torch.tensor(exs[i]["labels"])
            logits = model(input_ids=inp, attention_mask=att).logits.float()
            # position t predicts token t+1, exactly the shift the trainer's loss uses
            tgt = lab[:, 1:]
            nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), tgt, ignore_index=IGNORE, reduction="none")
            for k, i in enumerate(idx):
                doc_nll[i] = float(nll[k].sum())
                doc_tok[i] = int((tgt[k] != IGNORE).sum())
    total_tok = sum(doc_tok)
    if total_tok == 0:
        raise UsageError(f"no completion tokens left to score at max_length={max_length}",
                         fix="raise --max-length (or the trainer's max_length), or shorten the prompts")
    # the scored text is what the scored tokens decode to (after truncation), for bytes and words
    texts = [
        tokenizer.decode([t for t in e["labels"][1:] if t != IGNORE], skip_special_tokens=True) for e in exs
    ]
    sig = (
        f"ppl:sft|template:{template_name(tokenizer)}|max_length:{max_length}|scored:completion tokens only"
        "|agg:token_weighted"
    ) + _precision_part(precision)
    return PerplexityResult.from_sums(
        doc_nll, doc_tok, texts, sig, truncated=sum(bool(e["truncated"]) for e in exs)
    )


def _adds_bos(tokenizer: Any) -> bool:
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos


def load_causal_lm(model: str, adapter: str | None = None) -> tuple[Any, Any]:
    """A causal LM and tokenizer from a short name or folder, with an optional PEFT adapter on top."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from common.models import resolve_model
    from common.weights import safe_weights

    path = resolve_model(model).path
    adapter_path = resolve_model(adapter).path if adapter else None
    if adapter_path:
        safe_weights(adapter_path)
    tok = AutoTokenizer.from_pretrained(path)
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **safe_weights(path))
    if adapter_path:
        from peft import PeftModel

        lm = PeftModel.from_pretrained(lm, adapter_path)
    return lm.eval(), tok

"""Training data: read splits, validate them before any training, tokenize, mask prompts, batch and pad.

- Classification records `{"text","label"}` become `input_ids` + an integer label (sorted train label names).
- SFT records (prompt/completion or chat messages) go through the tokenizer's chat template when it has one;
  labels are -100 everywhere except assistant/completion tokens (`loss_on="completion"`), so the loss
  teaches answers, not prompts. Truncated rows, and rows that lose every answer token, are counted.
- Text records (continued pre-training, `task="text"`) are packed into blocks of `max_length` tokens by
  `pack_text_blocks`, with every token a target and no attention across documents.
- Batches: length-grouped (sort within seeded mega-batches, as HF's LengthGroupedSampler does) and padded
  to the longest row of the batch only, which is where most CPU time goes on short-text data.
torch is imported inside functions.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from finetune.errors import FinetuneError

IGNORE = -100
SPLIT_NAMES = {"train": ("train",), "val": ("val", "validation", "valid", "dev")}
SPLIT_EXTS = (".jsonl", ".json", ".parquet", ".csv")


# ---------------------------------------------------------------- reading and validating
def find_split(split_dir: str | Path, split: str) -> Path:
    """The file for `split` ("train" or "val") inside a folder written by `curate split`."""
    d = Path(split_dir)
    if not d.is_dir():
        raise FinetuneError(
            f"split folder {d} does not exist",
            fix="pass the folder written by `curate split`, or --train/--val files",
        )
    for name in SPLIT_NAMES[split]:
        for ext in SPLIT_EXTS:
            if (d / f"{name}{ext}").is_file():
                return d / f"{name}{ext}"
    found = sorted(p.name for p in d.iterdir())
    raise FinetuneError(f"no {split} split in {d} (found: {', '.join(found) or 'nothing'})",
                        fix=f"write {split}.jsonl there with `curate split`, or pass --{split} FILE")


def load_records(path: str | Path, kind: str | None = None, limit: int | None = None,
                 seed: int = 0) -> tuple[list[dict], dict[str, int]]:
    """Records from a file/folder/bundled:NAME via `curate.load`; `limit` takes a seeded random subsample.

    Returns:
        (records, quarantined) where quarantined counts the rows the loader rejected, by reason
        (e.g. `empty_assistant_turn`); they never reach training and the run summary reports them.
    """
    import curate

    p = str(path)
    if not p.startswith("bundled:") and not Path(p).exists():
        raise FinetuneError(
            f"data file {p} does not exist", fix="check the path, or use a split folder with --data"
        )
    fields: dict[str, Any] = {"kind": kind} if kind else {}
    loaded = curate.load(p, **fields)
    records = loaded.records
    if limit is not None and len(records) > limit:
        records = random.Random(seed).sample(records, limit)
    return records, dict(Counter(q.reason for q in loaded.quarantine))


def record_kind(rec: dict) -> str:
    """The kind of a loaded record, by the one rule `schemas.records.infer_kind`."""
    from schemas.records import infer_kind

    return infer_kind(rec.keys()).value


def validate_records(train: list[dict], val: list[dict], task: str) -> None:
    """Reject data that cannot train, before any model is loaded. Collects every problem into one error."""
    problems = []
    if not train:
        problems.append("the training split is empty")
    if not val:
        problems.append("the validation split is empty")
    want = {"classification": {"classification"}, "text": {"text"}}.get(task, {"completion", "chat"})
    for name, recs in (("train", train), ("val", val)):
        kinds = {record_kind(r) for r in recs[:1000]}
        if kinds - want:
            problems.append(
                f"{name} holds {'/'.join(sorted(kinds))} records; "
                f"task={task} needs {' or '.join(sorted(want))}"
            )
    if task == "classification" and train and val and not problems:
        missing = {str(r["label"]) for r in val} - {str(r["label"]) for r in train}
        if missing:
            problems.append(f"labels in val absent from train: {', '.join(sorted(missing)[:10])}")
        if len({str(r["label"]) for r in train}) < 2:
            problems.append("the training split has fewer than 2 labels")
    if task == "sft":
        for name, recs in (("train", train), ("val", val)):
            bad = [r.get("id") for r in recs if record_kind(r) == "chat" and chat_problem(r["messages"])]
            if bad:
                problems.append(
                    f"{len(bad)} {name} chat records are malformed (first ids: {bad[:5]}): "
                    + str(chat_problem(next(r for r in recs if r.get("id") == bad[0])["messages"]))
                )
    if problems:
        raise FinetuneError(
            "the training data cannot be used",
            details=problems,
            fix="curate the splits (`curate run ... --split`) so train/val are non-empty, "
            "of the task's kind, "
            "and every val label occurs in train",
        )


def chat_problem(messages: list[dict]) -> str | None:
    """Why a chat cannot train, or None: the same rules the loader quarantines by (schemas.records)."""
    from pydantic import ValidationError

    from schemas.records import ChatRecord

    try:
        ChatRecord.model_validate({"id": "check", "messages": messages})
    except ValidationError as e:
        return e.errors()[0]["msg"]
    return None


def label_maps(train: list[dict]) -> tuple[dict[int, str], dict[str, int]]:
    names = sorted({str(r["label"]) for r in train})
    return dict(enumerate(names)), {n: i for i, n in enumerate(names)}


def class_weight_vector(
    train: list[dict], label2id: dict[str, int], spec: str | dict[str, float]
) -> list[float] | None:
    """`balanced` = n / (k * count_c) as in sklearn's compute_class_weight; a dict gives weights by name."""
    if spec == "none":
        return None
    if isinstance(spec, dict):
        unknown = set(spec) - set(label2id)
        if unknown:
            raise FinetuneError(f"class_weights name unknown labels: {sorted(unknown)}",
                                fix=f"use label names from train: {sorted(label2id)}")
        return [float(spec.get(n, 1.0)) for n in label2id]
    counts = Counter(str(r["label"]) for r in train)
    n, k = len(train), len(label2id)
    return [n / (k * counts[name]) for name in label2id]


# ---------------------------------------------------------------- tokenizing
def build_classification_example(
    record: dict, tokenizer: Any, max_length: int, label2id: dict[str, int]
) -> dict:
    enc = tokenizer(record["text"], truncation=True, max_length=max_length)
    full_len = (
        len(tokenizer(record["text"])["input_ids"])
        if len(enc["input_ids"]) >= max_length
        else len(enc["input_ids"])
    )
    return {"input_ids": list(enc["input_ids"]), "labels": label2id[str(record["label"])],
            "truncated": full_len > max_length}


def _chat(record: dict, tokenizer: Any) -> Any:
    """The record as its chat template renders it (curate.chat_template), one loss weight per message."""
    from curate.chat_template import ChatRendering, prepare_chat

    if "messages" in record:
        return prepare_chat(record, tokenizer)
    return ChatRendering([{"role": "user", "content": record["prompt"]},
                          {"role": "assistant", "content": record["completion"]}], [1.0, 1.0], None)


def _encode(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def build_sft_example(record: dict, tokenizer: Any, max_length: int, loss_on: str = "completion") -> dict:
    """Tokenize one prompt/completion or chat record for causal-LM SFT.

    With a chat template, each assistant turn's tokens are those the template adds between the rendering of
    the conversation up to that turn (with the generation prompt) and the rendering including it; only they
    carry labels when `loss_on="completion"`, and only for turns whose `weight` is not 0 (axolotl's and TRL's
    per-message flag; TRL's conversational prompt/completion rows give the prompt's turns weight 0). Tool
    calls and tool definitions are rendered by the template when it supports them (see curate.chat_template).
    Without a template: prompt + newline + completion + EOS.

    Returns:
        dict with input_ids, labels (-100 where no loss), attention_mask, plus `truncated` (bool) and
        `answer_tokens` (label tokens left after truncation; 0 means the row teaches nothing).
    """
    from curate.chat_template import render

    chat = _chat(record, tokenizer)
    msgs = chat.messages
    ids: list[int] = []
    mask: list[bool] = []  # True where the token belongs to an assistant answer that is learned
    if getattr(tokenizer, "chat_template", None):
        rendered = ""
        for i, m in enumerate(msgs):
            if m["role"] == "assistant":
                before = render(tokenizer, chat, i, generation_prompt=True)
                after = render(tokenizer, chat, i + 1)
                if not before.startswith(rendered) or not after.startswith(before):
                    raise FinetuneError(
                        "the tokenizer's chat template does not render conversations as prefixes",
                        fix="use a model whose template is prefix-stable, or set loss_on=all",
                    )
                learned = chat.weights[i] > 0
                for text, is_answer in ((before[len(rendered):], False), (after[len(before):], learned)):
                    piece = _encode(tokenizer, text)
                    ids += piece
                    mask += [is_answer] * len(piece)
                rendered = after
        tail = render(tokenizer, chat)[len(rendered):]
        piece = _encode(tokenizer, tail) if tail else []
        ids += piece
        mask += [False] * len(piece)
    else:
        prompt = "\n".join(m["content"] for m in msgs if m["role"] != "assistant" or m is not msgs[-1]) + "\n"
        bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
        p_ids = bos + _encode(tokenizer, prompt)
        a_ids = _encode(tokenizer, msgs[-1]["content"]) + (
            [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        )
        learned = chat.weights[-1] > 0
        ids, mask = p_ids + a_ids, [False] * len(p_ids) + [learned] * len(a_ids)
    truncated = len(ids) > max_length
    ids, mask = ids[:max_length], mask[:max_length]
    labels = [t if (m or loss_on == "all") else IGNORE for t, m in zip(ids, mask, strict=True)]
    return {"input_ids": ids, "labels": labels, "attention_mask": [1] * len(ids),
            "truncated": truncated, "answer_tokens": sum(mask)}


def tokenize_split(
    records: list[dict],
    tokenizer: Any,
    task: str,
    max_length: int,
    *,
    label2id: dict[str, int] | None = None,
    loss_on: str = "completion",
) -> tuple[list[dict], dict]:
    """Tokenize a split. SFT rows left with no answer tokens are dropped (they would train nothing).

    Returns:
        (examples, stats) where stats counts rows, truncated rows and dropped rows.
    """
    out, truncated, dropped = [], 0, 0
    for r in records:
        ex = (
            build_classification_example(r, tokenizer, max_length, label2id or {})
            if task == "classification"
            else build_sft_example(r, tokenizer, max_length, loss_on)
        )
        truncated += ex.pop("truncated")
        if task == "sft" and ex.pop("answer_tokens") == 0:
            dropped += 1
            continue
        out.append(ex)
    return out, {"rows": len(records), "truncated": truncated, "no_answer_tokens": dropped}


# ---------------------------------------------------------------- batching
def length_grouped_batches(
    lengths: list[int], batch_size: int, seed: int, shuffle: bool = True
) -> list[list[int]]:
    """Index batches: shuffle, sort by length inside mega-batches of 50 batches, then shuffle the batches.

    The order depends only on (lengths, batch_size, seed), which is what makes resuming exact.
    """
    idx = list(range(len(lengths)))
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(idx)
    mega = batch_size * 50
    grouped: list[int] = []
    for s in range(0, len(idx), mega):
        grouped += sorted(idx[s:s + mega], key=lambda i: -lengths[i])
    batches = [grouped[s:s + batch_size] for s in range(0, len(grouped), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def plain_batches(n: int, batch_size: int, seed: int, shuffle: bool = True) -> list[list[int]]:
    idx = list(range(n))
    if shuffle:
        random.Random(seed).shuffle(idx)
    return [idx[s:s + batch_size] for s in range(0, n, batch_size)]


def collate(examples: list[dict], pad_id: int) -> dict:
    """Pad to the longest row in the batch (right padding); labels are padded with -100 for SFT.

    `n_tokens` (real, unpadded tokens) is what tokens/s counts.
    """
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    att = torch.zeros((len(examples), width), dtype=torch.long)
    seq_labels = isinstance(examples[0]["labels"], list)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long) if seq_labels else \
        torch.tensor([e["labels"] for e in examples], dtype=torch.long)
    packed = "position_ids" in examples[0]
    pos = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.tensor(e["input_ids"])
        att[i, :n] = 1
        if seq_labels:
            labels[i, :n] = torch.tensor(e["labels"])
        if packed:  # the padding tail is one more block of its own, starting at position 0
            pos[i, :n] = torch.tensor(e["position_ids"])
            pos[i, n:] = torch.arange(width - n)
    if packed:
        return {"input_ids": ids, "position_ids": pos, "labels": labels, "n_tokens": int(att.sum())}
    return {"input_ids": ids, "attention_mask": att, "labels": labels, "n_tokens": int(att.sum())}


def pack_examples(examples: list[dict], max_length: int) -> list[dict]:
    """Pack SFT examples into rows of at most `max_length` tokens (first-fit, longest first).

    Each row carries `position_ids` that restart at 0 for every example: given position ids and no 2-D
    attention mask, transformers builds a block-diagonal causal mask, so no token attends across samples.
    """
    rows: list[dict] = []
    for e in sorted(examples, key=lambda e: -len(e["input_ids"])):
        n = len(e["input_ids"])
        row = next((r for r in rows if len(r["input_ids"]) + n <= max_length), None)
        if row is None:
            row = {"input_ids": [], "labels": [], "position_ids": []}
            rows.append(row)
        row["input_ids"] += e["input_ids"]
        row["labels"] += e["labels"]
        row["position_ids"] += list(range(n))
    for r in rows:
        r["attention_mask"] = [1] * len(r["input_ids"])
    return rows


# ---------------------------------------------------------------- continued pre-training (text records)
def pack_text_blocks(records: list[dict], tokenizer: Any, max_length: int) -> tuple[list[dict], dict]:
    """Tokenize `text` records into one stream and cut it into blocks of `max_length` tokens.

    Every document is `bos? + tokens + eos` (BOS only where the tokenizer adds one itself), so the model
    learns where documents end. Documents follow each other in record order and a block is filled to
    `max_length` before the next one starts: no padding except in the last block, and no token is
    truncated away (a long document continues in the next block, without the context before the cut).

    Inside a block, `position_ids` restart at 0 at every document start (and at the block start); as for
    packed SFT rows (`pack_examples`), transformers then builds a block-diagonal causal mask, so no token
    attends to another document. The first token of each segment gets no label: the token before it belongs to
    another document (or to no context at all), so predicting it would teach the model nothing true.

    Returns:
        (blocks, stats): blocks with input_ids, labels, position_ids, attention_mask; stats with documents,
        empty documents (no token), tokens, blocks and the padding-free token count of the last block.
    """
    if max_length < 2:
        raise FinetuneError(
            f"max_length={max_length} leaves no room for a next-token target", fix="raise --max-length"
        )
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    blocks: list[dict] = []
    current: dict[str, list[int]] = {"input_ids": [], "labels": [], "position_ids": []}
    empty = tokens = 0
    for r in records:
        ids = list(tokenizer(r["text"])["input_ids"])
        if not ids:
            empty += 1
            continue
        ids += eos
        tokens += len(ids)
        pos = 0
        while pos < len(ids):
            room = max_length - len(current["input_ids"])
            piece = ids[pos:pos + room]
            current["input_ids"] += piece
            current["labels"] += [IGNORE, *piece[1:]]
            current["position_ids"] += list(range(len(piece)))
            pos += len(piece)
            if len(current["input_ids"]) == max_length:
                blocks.append(current)
                current = {"input_ids": [], "labels": [], "position_ids": []}
    if current["input_ids"]:
        blocks.append(current)
    for b in blocks:
        b["attention_mask"] = [1] * len(b["input_ids"])
    return blocks, {"rows": len(records), "documents": len(records) - empty, "empty_documents": empty,
                    "tokens": tokens, "blocks": len(blocks), "truncated": 0, "no_answer_tokens": 0}

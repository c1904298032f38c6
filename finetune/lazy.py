"""Tokenize only the rows a run's steps reach, and each row once per process.

A 20-step run over 28,716 training rows sees 640 of them; tokenizing every row first cost more than the
training did. Two pieces stop that:

- `ExampleStore` tokenizes a record the first time a batch asks for it (with `finetune.data`'s own builders,
  so an example is the same as before) and keeps it in a process-wide memo keyed by the record's content and
  the tokenizer settings: the folds of `evalsuite cv`, which share rows, tokenize each row once.
- `grouped_batches` makes length-grouped batches one mega-batch at a time, the way HF's
  LengthGroupedSampler does (shuffle, cut into mega-batches of 50 batches, sort each by length), then
  shuffles the batches inside each mega-batch. Only the mega-batches the steps reach are tokenized. The order
  depends only on (token lengths, batch size, seed), which is what keeps `--resume` exact.

SFT rows that keep no answer token after truncation teach nothing; they are left out of their mega-batch
and counted, as `tokenize_split` counts them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

from finetune import data as D

MEGA_BATCHES = 50  # batches per mega-batch, HF LengthGroupedSampler's default
# memo of tokenized rows: {settings key: {content key: example}}; one settings key at a time bounds memory
_MEMO: dict[tuple, dict[str, dict]] = {}


def _content_key(record: dict, task: str) -> str:
    if task == "classification":
        return str(record["text"])
    return json.dumps({k: record.get(k) for k in ("prompt", "completion", "messages")}, sort_keys=True,
                      ensure_ascii=False)


class ExampleStore:
    """The examples of one split, tokenized on first use.

    Args:
        records: The split's records.
        tokenizer: The run's tokenizer.
        task: "classification" or "sft".
        max_length: Truncation length.
        label2id: Classification label ids (from the training split).
        loss_on: SFT: "completion" or "all".
    """

    def __init__(self, records: list[dict], tokenizer: Any, task: str, max_length: int, *,
                 label2id: dict[str, int] | None = None, loss_on: str = "completion") -> None:
        self.records, self.tokenizer, self.task = records, tokenizer, task
        self.max_length, self.label2id, self.loss_on = max_length, label2id or {}, loss_on
        key = (
            getattr(tokenizer, "name_or_path", ""),
            type(tokenizer).__name__,
            len(tokenizer),
            task,
            max_length,
            loss_on,
        )
        if key not in _MEMO:
            _MEMO.clear()
            _MEMO[key] = {}
        self._memo = _MEMO[key]
        self._rows: dict[int, dict | None] = {}
        self.stats = {"rows": len(records), "tokenized": 0, "truncated": 0, "no_answer_tokens": 0}

    def __len__(self) -> int:
        return len(self.records)

    def get(self, i: int) -> dict | None:
        """Example `i` ready to collate, or None for an SFT row with no answer token left."""
        if i in self._rows:
            return self._rows[i]
        rec = self.records[i]
        ck = _content_key(rec, self.task)
        ex = self._memo.get(ck)
        if ex is None:
            if self.task == "classification":
                ex = D.build_classification_example(
                    rec, self.tokenizer, self.max_length, {str(rec["label"]): 0}
                )
            else:
                ex = D.build_sft_example(rec, self.tokenizer, self.max_length, self.loss_on)
            self._memo[ck] = ex
        self.stats["tokenized"] += 1
        self.stats["truncated"] += bool(ex["truncated"])
        out: dict | None
        if self.task == "classification":
            out = {"input_ids": ex["input_ids"], "labels": self.label2id[str(rec["label"])]}
        elif ex["answer_tokens"] == 0:
            self.stats["no_answer_tokens"] += 1
            out = None
        else:
            out = {k: ex[k] for k in ("input_ids", "labels", "attention_mask")}
        self._rows[i] = out
        return out

    def length(self, i: int) -> int | None:
        """Token length of example `i` (tokenizing it if needed); None when it is left out."""
        ex = self.get(i)
        return None if ex is None else len(ex["input_ids"])

    def all(self) -> list[dict]:
        """Every usable example, in record order (tokenizes the whole split)."""
        return [ex for ex in (self.get(i) for i in range(len(self.records))) if ex is not None]


def grouped_batches(n: int, batch_size: int, seed: int, length_of: Callable[[int], int | None], *,
                    group_by_length: bool = True) -> Iterator[list[int]]:
    """Index batches of one epoch, produced one mega-batch at a time.

    Args:
        n: Number of rows.
        batch_size: Rows per batch.
        seed: Shuffle seed (the epoch's).
        length_of: Token length of row i, or None to leave the row out; called only for the rows of the
            mega-batches that are reached.
        group_by_length: Sort each mega-batch by length (less padding); otherwise keep the shuffled order.
    """
    idx = list(range(n))
    rng = random.Random(seed)
    rng.shuffle(idx)
    mega = batch_size * MEGA_BATCHES
    for s in range(0, n, mega):
        lengths = {i: length_of(i) for i in idx[s:s + mega]}
        rows = [i for i in idx[s:s + mega] if lengths[i] is not None]
        if group_by_length:
            rows.sort(key=lambda i: -lengths[i])
        batches = [rows[k:k + batch_size] for k in range(0, len(rows), batch_size)]
        rng.shuffle(batches)
        yield from batches


class BatchOrder:
    """Random access over a lazily produced batch order: batch k is produced when first asked for.

    The batches are global batches (`batch_size * world` rows each, made as one process would make them);
    each process takes its contiguous share of every one, so the processes' batch k together are exactly the
    rows a single process at the global batch size trains on at step k, whatever the length grouping did.

    Args:
        batches: The epoch's global batches (e.g. `grouped_batches(n, batch_size * world, ...)`).
        rank: This process's rank; it takes rows [rank * m // world, (rank + 1) * m // world) of an m-row
            batch.
        world: Number of processes. A batch with fewer than `world` rows (the tail of a mega-batch) is
            skipped, so no process is left with an empty share.
        limit: At most this many batches.
    """

    def __init__(
        self, batches: Iterator[list[int]], rank: int = 0, world: int = 1, limit: int | None = None
    ) -> None:
        self._it, self._rank, self._world, self._limit = batches, rank, world, limit
        self._got: list[list[int]] = []
        self._done = False

    def available(self, k: int) -> bool:
        """Whether batch k exists (produces batches up to it)."""
        if self._limit is not None and k >= self._limit:
            return False
        while len(self._got) <= k and not self._done:
            b = next(self._it, None)
            if b is None:
                self._done = True
                break
            m = len(b)
            if m >= self._world:
                self._got.append(b[self._rank * m // self._world:(self._rank + 1) * m // self._world])
        return k < len(self._got)

    def __getitem__(self, k: int) -> list[int]:
        if not self.available(k):
            raise IndexError(k)
        return self._got[k]

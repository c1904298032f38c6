"""The Ray Data engine for `curate run --engine ray` (extra `datavet[ray]`): the local pipeline's stages with
no process holding all rows, and the local engine's answers (kept rows, removed rows and their clusters,
quarantine, every check's counts).

Stages, one module each:

* `load`: one read task per input shard (or run of small consecutive shards), validated by curate's loader
  code.
* `ids`: ids settled by the local loader's rule (duplicates quarantined, made-up ids renamed), one shuffle
  (and one more joining the changes with the rows, when any id changed).
* `rows`: normalization and each row's facts (text, length, PII, label, group) in one batch map.
* `dedup`: exact groups (shuffle on a text hash); MinHash signatures and LSH band keys in batch maps; band
  buckets, candidate pairs and their verification by shuffles.
* `components`: connected components of verified pairs by min-label propagation (one shuffle per round).
* `clusters`: each row joined with its cluster; conflicting labels by a shuffle on the cluster.
* `results`, `duplicates`: every check's result from aggregates and its findings made on the workers.
* `findings`: findings and quarantined rows written as shards by the workers; the driver keeps counts and
  the first `findings.CAP` findings of each check (it never holds all rows, nor all findings).
* `tokens`: `token_audit` on Ray Data actors (one tokenizer per worker); `leakage`: against another file or
  split, by the near-duplicate stages over both sides.
* `expect`: row-wise great-expectations suites, validated batch by batch and merged by GX's rule.
* `write`: kept and removed rows as shards in input order, by a range shuffle on row position.

`bag` and `shuffle` hold the shuffle plumbing; `session` connects to Ray; `heap` hands the driver's freed
heap back to the OS during a run. docs/scaling.md has the how-to.
"""

from curate.engines.ray.pipeline import run_ray_pipeline

__all__ = ["run_ray_pipeline"]

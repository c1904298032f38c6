"""`evalsuite ablate`: does curation pay? Train the same model on variants of the training data (raw, curated,
curated minus one step, random removals of as many rows) and compare them on one clean held-out test set.

Modules: `variants` (carve the test set, build each variant's training file with `curate run`), `runner`
(train and predict every variant x seed with `finetune run`, resumable), `report` (paired bootstrap deltas,
a verdict per step, the Report).
"""

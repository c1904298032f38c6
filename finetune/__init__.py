"""finetune: a compact trainer for sequence classification and causal-LM SFT, full or LoRA.

Public API (torch, transformers and peft are imported inside functions, so `import finetune` stays cheap):

- `finetune.train.run(cfg: TrainConfig) -> TrainResult` — the whole training loop (one file, top to bottom).
- `finetune.models.load_for_inference(path_or_name, task, adapter=None, num_labels=None)
  -> (model, tokenizer)`
- `finetune.data.build_sft_example(record, tokenizer, max_length, loss_on="completion") -> dict`
- `finetune.probe.train_linear_probe(model_name, train_records, val_records, ...) -> ProbeResult`
- `finetune.sweep.sweep(cfg, space, n_trials=None, strategy="grid") -> SweepResult`
"""

__version__ = "0.1.0"

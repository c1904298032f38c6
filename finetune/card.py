"""The Hugging Face model card (README.md with YAML front matter) of a fine-tuned model or LoRA adapter.

`finetune run` writes it next to the weights, replacing PEFT's boilerplate card. The front matter names the
base model by its canonical hub id, the license, library, pipeline tag and tags; `evalsuite compare` adds a
`model-index` with the test results (`record_evaluation`). Cards are built with huggingface_hub's own
`ModelCardData`, so the hub's parser reads them back, and carry the `datavet` tag: a card without it was not
written by datavet and is never touched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MARKER_TAG = "datavet"
PIPELINE = {"classification": "text-classification", "sft": "text-generation", "cpt": "text-generation"}


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def model_card_text(cfg: Any, result: Any, base_hub_id: str | None, base_path: str, license: str | None,
                    data_names: list[str]) -> str:
    """The card for a finished run: front matter plus what was trained, on what, and how to load it."""
    from huggingface_hub import ModelCard, ModelCardData

    task = str(getattr(cfg, "task", "sft"))
    method = str(getattr(cfg, "method", "full"))
    lora = method != "full"
    auto_cls = "AutoModelForSequenceClassification" if task == "classification" else "AutoModelForCausalLM"
    data = ModelCardData(
        base_model=base_hub_id, license=license, library_name="peft" if lora else "transformers",
        pipeline_tag=PIPELINE.get(task, "text-generation"), model_name=Path(cfg.out).name,
        tags=[MARKER_TAG, "lora" if lora else "full-fine-tune", task],
    )
    final = {k: v for k, v in (result.final_metrics or {}).items() if isinstance(v, int | float)}
    base_line = (f"`{base_hub_id}`" if base_hub_id else f"a local model folder (`{base_path}`), which has no "
                 "known hub id: the card's `base_model` is left out")
    lines = [
        f"# {Path(cfg.out).name}",
        "",
        f"{'A LoRA adapter for' if lora else 'A fine-tune of'} {base_line}, "
        "trained by datavet's `finetune run` "
        f"({task}, {method}).",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
        *(
            f"| {k} | {_fmt(v)} |"
            for k, v in (
                ("data", ", ".join(data_names) or "(not recorded)"),
                ("steps", result.steps),
                ("epochs", result.epochs),
                ("learning rate", cfg.optim.lr),
                ("batch size", cfg.batch_size),
                ("max length", cfg.max_length),
                ("seed", cfg.seed),
                ("stopped because", result.stop_reason),
            )
        ),
        "",
        "## Validation during training",
        "",
        "These are the validation split's scores of the saved weights, measured by the trainer. "
        "They are not a "
        "held-out test: `evalsuite compare` adds test results with confidence intervals to this card's "
        "`model-index`.",
        "",
        *(
            ["| metric | value |", "|---|---|", *(f"| {k} | {_fmt(v)} |" for k, v in sorted(final.items()))]
            if final
            else ["(no validation metrics were recorded)"]
        ),
        "",
        "## Use",
        "",
        "```python",
        *(
            [
                "from peft import PeftModel",
                f"from transformers import {auto_cls}",
                "",
                f"base = {auto_cls}"
                f".from_pretrained({(base_hub_id or base_path)!r})",
                "model = PeftModel.from_pretrained(base, 'path/to/this/folder')",
            ]
            if lora
            else [
                f"from transformers import {auto_cls}",
                "",
                f"model = {auto_cls}"
                ".from_pretrained('path/to/this/folder')",
            ]
        ),
        "```",
        "",
        "## Limits",
        "",
        "Trained on the data named above only; check it on your own test set (`evalsuite compare`) "
        "before use.",
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n").content


def write_model_card(out: Path, cfg: Any, result: Any, ref: Any) -> Path:
    """Write README.md in `out` (replacing PEFT's boilerplate) and point an adapter at the base's hub id."""
    from curate.io.writers import atomic_text

    inputs = [p for p in (cfg.data.split_dir, cfg.data.train, cfg.data.val) if p]
    text = model_card_text(cfg, result, ref.hub_id, ref.path, ref.license, [str(p) for p in inputs])
    adapter_cfg = out / "adapter_config.json"
    if adapter_cfg.exists() and ref.hub_id:
        # PEFT records the folder the base was loaded from (a cache path on this machine); the hub id makes
        # the adapter load anywhere with plain `PeftModel.from_pretrained`.
        conf = json.loads(adapter_cfg.read_text())
        conf["base_model_name_or_path"] = ref.hub_id
        with atomic_text(adapter_cfg) as fh:
            fh.write(json.dumps(conf, indent=2, sort_keys=True))
    card = out / "README.md"
    with atomic_text(card) as fh:
        fh.write(text)
    return card


def record_evaluation(
    folder: str | Path, compare_json: dict[str, Any], *, task: str, dataset_name: str
) -> bool:
    """Add `evalsuite compare`'s tuned-model results to the folder's card as a model-index.

    Only a card that datavet wrote (tagged `datavet`) is changed; returns whether the card was updated.
    """
    from huggingface_hub import EvalResult, ModelCard

    from curate.io.writers import atomic_text

    card_path = Path(folder) / "README.md"
    if not card_path.is_file():
        return False
    card = ModelCard.load(card_path)
    if MARKER_TAG not in (card.data.tags or []):
        return False
    task_type = "text-classification" if task == "classification" else "text-generation"
    results = []
    for name, m in sorted((compare_json.get("metrics") or {}).items()):
        value = m.get("value")
        if not isinstance(value, int | float):
            continue
        results.append(EvalResult(task_type=task_type, dataset_type="local", dataset_name=dataset_name,
                                  metric_type=name, metric_value=float(value),
                                  metric_config=m.get("signature"), dataset_split="test"))
    if not results:
        return False
    card.data.eval_results = results
    card.data.model_name = card.data.model_name or Path(folder).name
    with atomic_text(card_path) as fh:
        fh.write(str(card))
    return True

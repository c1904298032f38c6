"""Load a model for training (task head, dropout override, LoRA/QLoRA) or for inference (incl. adapter
folders).

LoRA target modules default per architecture to the attention projections, the choice of the LoRA paper
(query/value for BERT-style encoders; q/k/v/o for Llama-style decoders); unknown architectures fall back to
peft's own defaults. torch, transformers and peft are imported inside functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.models import resolve_model
from common.weights import safe_weights
from finetune.errors import FinetuneError

LORA_TARGETS: dict[str, list[str]] = {
    "bert": ["query", "key", "value"],
    "roberta": ["query", "key", "value"],
    "distilbert": ["q_lin", "v_lin"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gpt2": ["c_attn"],
}
DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "attention_dropout", "hidden_dropout",
                "classifier_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop", "dropout")


def quiet_transformers() -> None:
    """Silence transformers' progress bars and warnings: the trainer prints its own progress."""
    import warnings

    import transformers

    # save_pretrained/merge call deprecated helpers inside transformers itself; nothing the user can act on
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token_id is None:  # decoders often ship without one; EOS is the usual stand-in
        tok.pad_token = tok.eos_token
    return tok


def load_for_training(
    name: str,
    task: str,
    *,
    method: str = "full",
    lora: Any = None,
    dropout: float | None = None,
    id2label: dict[int, str] | None = None,
    allow_pickle: bool = False,
) -> tuple[Any, Any]:
    """Model and tokenizer ready to train: the task head, optional dropout override, LoRA/QLoRA wrapping.

    Weights load from safetensors only unless `allow_pickle` (see `common.weights`)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

    quiet_transformers()
    ref = resolve_model(name)
    # before anything loads: refuse pickle weights early
    safe = safe_weights(ref.path, allow_pickle=allow_pickle)
    tok = load_tokenizer(ref.path)
    config = AutoConfig.from_pretrained(ref.path)
    if dropout is not None:
        for key in DROPOUT_KEYS:
            if hasattr(config, key) and isinstance(getattr(config, key), (int, float)):
                setattr(config, key, dropout)
    kwargs: dict[str, Any] = {"config": config, "dtype": torch.float32, **safe}
    if method == "qlora":
        kwargs["quantization_config"] = _qlora_config()
    if task == "classification":
        config.num_labels = len(id2label or {})
        config.id2label = {int(k): v for k, v in (id2label or {}).items()}
        config.label2id = {v: int(k) for k, v in (id2label or {}).items()}
        config.pad_token_id = tok.pad_token_id
        model = AutoModelForSequenceClassification.from_pretrained(ref.path, **kwargs)
    else:
        model = AutoModelForCausalLM.from_pretrained(ref.path, **kwargs)
    if method in ("lora", "qlora"):
        model = wrap_lora(model, task, lora)
    return model, tok


def _qlora_config() -> Any:
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise FinetuneError("method=qlora needs a CUDA GPU, and none is visible",
                            fix="use --method lora on this machine, or run on a machine with a CUDA GPU")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise FinetuneError("method=qlora needs bitsandbytes, which is not installed",
                            fix="`pip install bitsandbytes`, or use --method lora")
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
    )


def wrap_lora(model: Any, task: str, lora: Any) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model

    targets = (lora.target_modules if lora is not None and lora.target_modules
               else LORA_TARGETS.get(model.config.model_type))
    cfg = LoraConfig(
        r=lora.r if lora else 8,
        lora_alpha=lora.alpha if lora else 16,
        lora_dropout=lora.dropout if lora else 0.05,
        target_modules=targets,
        task_type=TaskType.SEQ_CLS if task == "classification" else TaskType.CAUSAL_LM,
    )
    try:
        return get_peft_model(model, cfg)
    except ValueError as e:
        raise FinetuneError(f"LoRA could not wrap {model.config.model_type}: {e}",
                            fix="set lora.target_modules to module names that exist in this model") from None


def load_for_inference(path_or_name: str, task: str, adapter: str | None = None,
                       num_labels: int | None = None, allow_pickle: bool = False) -> tuple[Any, Any]:
    """Model (eval mode) and tokenizer for `task` ("classification" or "sft"/"causal-lm").

    Args:
        path_or_name: minilm, smollm2, a save_pretrained folder, a LoRA adapter folder, or a hub id.
        task: "classification" loads a sequence-classification head; anything else a causal LM.
        adapter: a LoRA adapter folder to apply on top of `path_or_name`.
        num_labels: only for a base model with no trained head (the head is then random).
        allow_pickle: also load pickle weights (`pytorch_model.bin`); safetensors only otherwise.
    """
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    quiet_transformers()
    ref = resolve_model(path_or_name)
    base_path, adapter_path = ref.path, adapter
    if adapter is None and (Path(ref.path) / "adapter_config.json").exists():
        adapter_path = ref.path
        base_id = json.loads((Path(ref.path) / "adapter_config.json").read_text())["base_model_name_or_path"]
        # the adapter names its base by hub id (finetune.card); a bundled model's id resolves to its local
        # copy
        base_path = resolve_model(base_id).path
    if adapter_path:
        safe_weights(adapter_path, allow_pickle=allow_pickle)
    kwargs: dict[str, Any] = safe_weights(base_path, allow_pickle=allow_pickle)
    tok_src = (
        adapter_path
        if adapter_path and (Path(adapter_path) / "tokenizer_config.json").exists()
        else base_path
    )
    tok = load_tokenizer(tok_src)
    if task == "classification":
        if adapter_path and num_labels is None:
            # the adapter folder keeps the label names the trainer saved next to it
            labels_file = Path(adapter_path) / "labels.json"
            if labels_file.exists():
                id2label = {int(k): v for k, v in json.loads(labels_file.read_text()).items()}
                kwargs.update(
                    num_labels=len(id2label), id2label=id2label, label2id={v: k for k, v in id2label.items()}
                )
        elif num_labels is not None:
            kwargs["num_labels"] = num_labels
        model = AutoModelForSequenceClassification.from_pretrained(base_path, **kwargs)
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tok.pad_token_id
    else:
        model = AutoModelForCausalLM.from_pretrained(base_path, **kwargs)
    if adapter_path:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_path)
    return model.eval(), tok

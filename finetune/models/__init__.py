"""Model resolution (short names, bundled weights) and loading (heads, LoRA, adapters for inference)."""

from common.models import ModelRef, cache_dir, minilm_dir, resolve_model, smollm2_dir
from finetune.models.load import load_for_inference, load_for_training, load_tokenizer, quiet_transformers

__all__ = ["ModelRef", "cache_dir", "load_for_inference", "load_for_training", "load_tokenizer", "minilm_dir",
           "quiet_transformers", "resolve_model", "smollm2_dir"]

"""Model resolution (short names, bundled weights) and loading (heads, LoRA)."""

from finetune.models.registry import ModelRef, cache_dir, minilm_dir, resolve_model, smollm2_dir

__all__ = ["ModelRef", "cache_dir", "minilm_dir", "resolve_model", "smollm2_dir"]

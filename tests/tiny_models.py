"""Tiny models (2 layers, hidden 64, seeded) with the real MiniLM / SmolLM2 tokenizers, saved the way a user's
model folder is: one builder for every test package."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _tokenizer(kind: str) -> Any:
    from transformers import AutoTokenizer

    from finetune.models import minilm_dir, smollm2_dir

    return AutoTokenizer.from_pretrained(str(minilm_dir() if kind == "bert" else smollm2_dir()))


def make_tiny_bert(folder: Path, labels: list[str] | None = None) -> Path:
    """A BERT encoder (or, with `labels`, a sequence classifier with those classes) and its tokenizer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    tok = _tokenizer("bert")
    head: dict[str, Any] = {}
    if labels:
        head = {"num_labels": len(labels), "id2label": dict(enumerate(labels)),
                "label2id": {name: i for i, name in enumerate(labels)}}
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=128, **head)
    torch.manual_seed(0)
    (BertForSequenceClassification if labels else BertModel)(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def tiny_llama() -> tuple[Any, Any]:
    """A seeded 2-layer Llama causal LM sized for the SmolLM2 tokenizer, and that tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _tokenizer("llama")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                      num_key_value_heads=1, intermediate_size=128, max_position_embeddings=256,
                      pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                      eos_token_id=tok.eos_token_id, tie_word_embeddings=True)
    torch.manual_seed(0)
    return LlamaForCausalLM(cfg), tok


def make_tiny_llama(folder: Path) -> Path:
    """`tiny_llama` saved with its tokenizer."""
    model, tok = tiny_llama()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder

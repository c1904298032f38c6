"""Tiny models (2 layers, hidden 64, fixed seed) saved with the real MiniLM / SmolLM2 tokenizers, and tiny
data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """curate's writer (the one `curate split` uses for the files finetune reads), returning the path."""
    import curate

    curate.write_jsonl(rows, path)
    return path


def make_tiny_bert(folder: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from finetune.models import minilm_dir

    tok = AutoTokenizer.from_pretrained(str(minilm_dir()))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=128)
    BertModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def make_tiny_llama(folder: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from finetune.models import smollm2_dir

    tok = AutoTokenizer.from_pretrained(str(smollm2_dir()))
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=128,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


WORDS = {
    "pos": ["great", "love", "happy", "wonderful", "good"],
    "neg": ["awful", "hate", "sad", "terrible", "bad"],
    "neu": ["table", "monday", "paper", "window", "street"],
}


def cls_rows(
    n: int,
    seed: int,
    labels: tuple[str, ...] = ("pos", "neg", "neu"),
    weights: tuple[float, ...] | None = None,
) -> list[dict]:
    """Planted sentiment: each row's words come from its label's word list, so the task is learnable."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lab = rng.choices(labels, weights=weights)[0]
        words = [rng.choice(WORDS[lab]) for _ in range(rng.randint(2, 8))]
        rows.append({"id": f"r{seed}-{i}", "text": "it was " + " ".join(words), "label": lab})
    return rows


def sft_rows(n: int, seed: int) -> list[dict]:
    """Planted mapping: the answer is the prompt's colour word, so completion loss can fall quickly."""
    rng = random.Random(seed)
    colours = ["red", "blue", "green", "yellow"]
    rows = []
    for i in range(n):
        c = rng.choice(colours)
        rows.append({"id": f"s{seed}-{i}", "prompt": f"Name the colour in: the {c} car is parked outside.",
                     "completion": c})
    return rows


@pytest.fixture
def cls_split(tmp_path: Path) -> Path:
    d = tmp_path / "split"
    write_jsonl(d / "train.jsonl", cls_rows(96, 1))
    write_jsonl(d / "val.jsonl", cls_rows(30, 2))
    return d


@pytest.fixture
def sft_split(tmp_path: Path) -> Path:
    d = tmp_path / "sft"
    write_jsonl(d / "train.jsonl", sft_rows(48, 1))
    write_jsonl(d / "val.jsonl", sft_rows(12, 2))
    return d

"""Tiny models (2 layers, hidden 64, fixed seed) saved with the real MiniLM / SmolLM2 tokenizers, and tiny
data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.tiny_models import make_tiny_bert, make_tiny_llama


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """curate's writer (the one `curate split` uses for the files finetune reads), returning the path."""
    import curate

    curate.write_jsonl(rows, path)
    return path


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

"""bias: parity gap + chi-square per group, term-label PMI, and length-label leakage, on planted data."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from curate.checks.bias import BiasCheck, length_leakage, parity_gaps, term_pmi
from curate.io import load
from curate.runner import default_context
from schemas.findings import CheckStatus

WORDS = [
    "the",
    "a",
    "service",
    "flight",
    "crew",
    "seat",
    "bag",
    "gate",
    "time",
    "plane",
    "trip",
    "day",
    "staff",
    "food",
    "app",
]


def sentence(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def ctx_of(tmp_path: Path, rows: list[dict], **options):
    p = tmp_path / "data.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return default_context(
        load(p, group_field="region" if any("region" in r for r in rows) else None), **options
    )


def test_parity_gap_multiclass_one_vs_rest():
    labels = ["pos"] * 80 + ["neg"] * 20 + ["pos"] * 30 + ["neg"] * 50 + ["neu"] * 20
    groups = ["north"] * 100 + ["south"] * 100
    out = parity_gaps(labels, groups, min_group_size=30)
    assert out["gaps"]["pos"] == {"gap": 0.5, "highest": "north", "lowest": "south"}
    assert out["gaps"]["neu"]["gap"] == 0.2
    assert out["chi_square"]["dof"] == 2 and out["chi_square"]["p_value"] < 1e-6


def test_bias_flags_planted_group_skew_not_balanced_groups(tmp_path):
    rng = random.Random(0)
    skewed, fair = [], []
    for i in range(200):
        region = "north" if i < 100 else "south"
        # north: 85% positive, south: 30% positive
        lab = "pos" if rng.random() < (0.85 if region == "north" else 0.30) else "neg"
        skewed.append({"id": str(i), "text": sentence(rng), "label": lab, "region": region})
        fair.append(
            {"id": str(i), "text": sentence(rng), "label": "pos" if i % 2 else "neg", "region": region}
        )
    r = BiasCheck().run(ctx_of(tmp_path, skewed, group_field="region"))
    assert r.status is CheckStatus.warn and "parity_gap" in r.summary["problems"]
    assert r.summary["group"]["largest_gap"]["gap"] > 0.4
    r2 = BiasCheck().run(ctx_of(tmp_path, fair, group_field="region"))
    assert "parity_gap" not in r2.summary["problems"]
    assert r2.summary["group"]["chi_square"]["p_value"] > 0.5


def test_term_pmi_matches_hand_computation():
    texts = ["great trip", "great crew", "bad seat", "late bag", "great bag but late"]
    labels = ["pos", "pos", "neg", "neg", "neg"]
    out = term_pmi(texts, labels, ["great", "Late"])
    # P(pos | great) = 2/3, P(pos) = 2/5 -> log2((2/3)/(2/5))
    assert out["great"]["rows"] == 3
    assert out["great"]["pmi"]["pos"] == pytest.approx(math.log2((2 / 3) / (2 / 5)), abs=1e-3)
    assert out["Late"]["labels"] == {"neg": 2}  # case-insensitive, whole word


def test_bias_flags_term_tied_to_one_label(tmp_path):
    rng = random.Random(1)
    rows = []
    for i in range(120):
        lab = ["pos", "neg", "neu"][i % 3]
        text = sentence(rng) + (" delayed" if lab == "neg" and i % 2 else "")
        rows.append({"id": str(i), "text": text, "label": lab})
    r = BiasCheck({"terms": ["delayed", "crew"]}).run(ctx_of(tmp_path, rows))
    assert "term_label_association: 'delayed' -> neg" in r.message
    assert "'crew'" not in r.message  # spread over every label


def test_length_leakage_found_when_length_gives_the_label_away(tmp_path):
    rng = random.Random(2)
    rows = [{"id": str(i), "text": sentence(rng, 4 if i % 2 else 20), "label": "short" if i % 2 else "long"}
            for i in range(100)]
    r = BiasCheck().run(ctx_of(tmp_path, rows))
    leak = r.summary["length_leakage"]
    assert leak["cv_accuracy"] > 0.95 and leak["majority_baseline"] == 0.5
    assert "length_predicts_label" in r.summary["problems"]
    # Same lengths for both labels: no leakage.
    same = [{"id": str(i), "text": sentence(rng, 8), "label": "a" if i % 2 else "b"} for i in range(100)]
    assert length_leakage([r["text"] for r in same], [r["label"] for r in same], folds=5)["lift"] < 0.05


def test_bias_does_not_apply_to_generative_data(tmp_path):
    rows = [{"id": str(i), "prompt": f"q {i}", "completion": f"a {i}"} for i in range(10)]
    assert BiasCheck().run(ctx_of(tmp_path, rows)).status is CheckStatus.not_applicable

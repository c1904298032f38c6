"""class_balance, length and pii on tiny planted data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.checks.class_balance import ClassBalanceCheck, balance_stats, label_counts
from curate.checks.length import LengthCheck
from curate.checks.pii import PiiCheck, find_pii, luhn_ok, mask_pii
from curate.io import load
from curate.runner import default_context
from schemas.findings import CheckStatus


def ctx_of(tmp_path: Path, rows: list[dict], **options):
    p = tmp_path / "data.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return default_context(load(p), **options)


def labelled(counts: dict[str, int]) -> list[dict]:
    rows = []
    for lab, n in counts.items():
        rows += [{"id": f"{lab}{i}", "text": f"{lab} example number {i}", "label": lab} for i in range(n)]
    return rows


# ---- class_balance -------------------------------------------------------------------------------------

def test_balance_flags_under_represented_class_and_weights_match_sklearn(tmp_path):
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    ctx = ctx_of(tmp_path, labelled({"a": 40, "b": 30, "c": 12}))
    r = ClassBalanceCheck().run(ctx)
    assert r.status is CheckStatus.warn
    assert r.summary["under_represented"] == ["c"]          # 40 / 12 = 3.33 > 2; 40 / 30 = 1.33 is fine
    assert r.summary["imbalance_ratio"] == pytest.approx(40 / 12, abs=1e-3)
    assert r.summary["rarest_class"] == "c" and r.summary["kfold"] == 5
    y = np.array(["a"] * 40 + ["b"] * 30 + ["c"] * 12)
    expected = compute_class_weight("balanced", classes=np.array(["a", "b", "c"]), y=y)
    assert [r.summary["class_weights"][k] for k in "abc"] == pytest.approx(list(expected), abs=1e-4)
    assert "c is under-represented" in r.message


def test_balance_uniform_passes_with_entropy_one(tmp_path):
    r = ClassBalanceCheck().run(ctx_of(tmp_path, labelled({"x": 15, "y": 15})))
    assert r.status is CheckStatus.passed and r.count == 0
    assert r.summary["normalized_entropy"] == pytest.approx(1.0)


def test_balance_fails_when_rarest_class_cannot_fill_every_fold(tmp_path):
    ctx = ctx_of(tmp_path, labelled({"x": 30, "y": 4}), kfold=5)
    r = ClassBalanceCheck().run(ctx)
    assert r.status is CheckStatus.fail
    assert r.summary["unsplittable"] == ["y"] and r.summary["too_rare"] == ["y"]
    # The check's own parameter wins over the CLI option. still too rare
    assert ClassBalanceCheck({"kfold": 3, "max_ratio": 10}).run(ctx).status is CheckStatus.warn


def test_balance_counts_multilabel_and_skips_unlabelled(tmp_path):
    assert label_counts([{"label": ["a", "b"]}, {"label": "a"}]) == {"a": 2, "b": 1}
    assert (
        balance_stats(label_counts([{"label": "a"}, {"label": "a"}, {"label": "b"}]))["imbalance_ratio"]
        == 2.0
    )
    rows = [{"id": str(i), "prompt": f"q{i}", "completion": f"a{i}"} for i in range(5)]
    assert ClassBalanceCheck().run(ctx_of(tmp_path, rows)).status is CheckStatus.not_applicable


# ---- length --------------------------------------------------------------------------------------------

def test_length_finds_empty_short_long_and_outliers(tmp_path):
    rows = [
        {"id": f"n{i}", "text": f"an ordinary sentence of normal size number {i}", "label": "a"}
        for i in range(40)
    ]
    rows += [{"id": "empty", "text": "   ", "label": "a"}, {"id": "short", "text": "ok", "label": "a"},
             {"id": "huge", "text": "word " * 2000, "label": "b"}]
    ctx = ctx_of(tmp_path, rows)
    r = LengthCheck().run(ctx)
    by_id = {f.id: f.reason for f in r.findings}
    assert by_id == {"empty": "empty_text", "short": "too_short", "huge": "length_outlier"}
    assert r.findings[0].reason == "empty_text"  # worst first
    assert r.status is CheckStatus.fail  # empty text is an error
    h = r.summary["histogram"]
    assert set(h["series"]) == {"a", "b"} and sum(map(sum, h["series"].values())) == len(rows)
    # max_chars turns the huge row into too_long; outlier_z None disables outliers.
    r2 = LengthCheck({"max_chars": 1000, "outlier_z": None}).run(ctx)
    assert {f.id: f.reason for f in r2.findings}["huge"] == "too_long"


def test_length_does_not_flag_ordinary_short_texts_as_outliers(tmp_path):
    # Length-capped data (like tweets): the short tail must not become outliers.
    rows = [{"id": str(i), "text": "x" * (20 + (i * 7) % 120), "label": "a"} for i in range(200)]
    r = LengthCheck().run(ctx_of(tmp_path, rows))
    assert r.status is CheckStatus.passed and r.findings == []


# ---- pii -----------------------------------------------------------------------------------------------

def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize("text,kinds", [
    ("write to jane.doe+x@mail.example.org please", ["email"]),
    ("call +1 415-555-0132 or (555) 123-4567", ["phone", "phone"]),
    ("from 192.168.10.254 and 2001:db8:85a3::8a2e:370:7334", ["ip", "ip"]),
    ("card 4111 1111 1111 1111", ["card"]),
    ("card 4111 1111 1111 1112 fails luhn", []),
    ("0011 800-55558000 passes luhn but is a phone", ["phone"]),
    ("in 2019 we sold 1,000,000 units at 12.50 at 10:30:45, 999.1.1.1", []),
])
def test_find_pii_kinds(text, kinds):
    assert [k for k, _, _ in find_pii(text)] == kinds


def test_mask_pii_masks_and_counts():
    masked, n = mask_pii("mail a@b.co, card 4111-1111-1111-1111, ip 10.0.0.1.")
    assert masked == "mail [EMAIL], card [CARD], ip [IP]." and n == 3
    assert mask_pii("nothing here") == ("nothing here", 0)


def test_pii_check_counts_per_row_and_never_shows_raw_values(tmp_path):
    rows = [{"id": "1", "text": "mail me at bob@example.com or alice@example.com", "label": "a"},
            {"id": "2", "text": "my card is 4111 1111 1111 1111", "label": "a"},
            {"id": "3", "text": "no personal data here, order 12345", "label": "a"}]
    r = PiiCheck().run(ctx_of(tmp_path, rows))
    got = {(f.id, f.reason): f.matches for f in r.findings}
    assert got == {("1", "pii_email"): 2, ("2", "pii_card"): 1}
    assert r.status is CheckStatus.fail  # a card number is an error
    assert all("example.com" not in (f.message or "") and "4111" not in (f.message or "") for f in r.findings)
    assert r.summary["rows_with_pii"] == 2

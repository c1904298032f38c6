"""Each metric against its reference library on fixed inputs; bootstrap determinism; signature refusal."""

from __future__ import annotations

import warnings

import pytest
import sacrebleu
from rouge_score import rouge_scorer
from sklearn.metrics import accuracy_score, f1_score

from evalsuite.bootstrap import mcnemar, paired_bootstrap
from evalsuite.metrics import check_signatures, metrics_for, score_all
from evalsuite.metrics.classification import confusion, per_class_table
from evalsuite.metrics.generation import warn_non_ascii
from schemas.errors import UsageError

REFS = ["the cat sat on the mat", "a quick brown fox", "hello world", "rain falls in spain"]
PREDS = ["the cat sat on a mat", "the quick brown fox", "hello world", "snow in spain"]
Y = ["pos", "neg", "neu", "pos", "neg", "pos"]
P = ["pos", "neg", "pos", "pos", "neu", "neg"]


def test_classification_matches_sklearn():
    s = score_all(metrics_for("classification"), P, Y)
    assert s["accuracy"]["value"] == pytest.approx(accuracy_score(Y, P))
    for avg in ("macro", "micro", "weighted"):
        assert s[f"f1_{avg}"]["value"] == pytest.approx(f1_score(Y, P, average=avg, zero_division=0))
    assert "average:macro" in s["f1_macro"]["signature"]
    cols, rows = per_class_table(P, Y)
    assert cols[0] == "label" and [r[0] for r in rows] == ["neg", "neu", "pos"] and rows[2][4] == 3
    labels, m = confusion(P, Y)
    assert labels == ["neg", "neu", "pos"] and m[2] == [1, 0, 2]  # true pos: 1 -> neg, 2 -> pos


def test_generation_matches_sacrebleu_and_rouge_score():
    s = score_all(metrics_for("generation"), PREDS, REFS)
    assert s["bleu"]["value"] == pytest.approx(sacrebleu.corpus_bleu(PREDS, [REFS]).score)
    assert s["chrf"]["value"] == pytest.approx(sacrebleu.corpus_chrf(PREDS, [REFS]).score)
    assert "tok:13a" in s["bleu"]["signature"] and "smooth:exp" in s["bleu"]["signature"]
    sc = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=False)
    r1 = sum(sc.score(r, p)["rouge1"].fmeasure for p, r in zip(PREDS, REFS, strict=True)) / len(REFS)
    assert s["rouge1"]["value"] == pytest.approx(r1)
    assert s["exact_match"]["value"] == pytest.approx(0.25)


def test_rouge_unicode_tokenizer_scores_non_latin_text():
    refs, preds = ["привет мир", "кошка"], ["привет мир", "собака"]
    with pytest.warns(UserWarning, match="non-ASCII"):
        warn_non_ascii(refs, "default")
    default = score_all(metrics_for("generation"), preds, refs)["rouge1"]["value"]
    uni = score_all(metrics_for("generation", rouge_tokenizer="unicode"), preds, refs)
    assert default == 0.0
    assert uni["rouge1"]["value"] == pytest.approx(0.5)
    assert "tok:unicode" in uni["rouge1"]["signature"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_non_ascii(refs, "unicode") is False


def test_signature_mismatch_is_refused():
    a = {"rouge1": "tok:default"}
    check_signatures(a, dict(a))
    with pytest.raises(UsageError) as e:
        check_signatures(a, {"rouge1": "tok:unicode"})
    assert e.value.fix


def test_bootstrap_is_deterministic_and_brackets_the_delta():
    acc, f1 = metrics_for("classification")[0], metrics_for("classification")[3]
    refs = Y * 10
    base = P * 10
    tuned = list(refs)  # tuned is always right; base is right on 3 of 6
    d1 = paired_bootstrap(acc, base, tuned, refs, n_resamples=300, seed=3)
    d2 = paired_bootstrap(acc, base, tuned, refs, n_resamples=300, seed=3)
    assert (d1.ci, d1.delta) == (d2.ci, d2.delta)
    assert d1.delta == pytest.approx(0.5) and d1.ci[0] <= 0.5 <= d1.ci[1] and d1.ci[0] > 0
    assert d1.status == "improved"
    same = paired_bootstrap(f1, base, base, refs, n_resamples=50, seed=0)  # corpus metric path
    assert same.ci == (0.0, 0.0) and same.status == "unchanged"
    worse = paired_bootstrap(acc, tuned, base, refs, n_resamples=300, seed=3)
    assert worse.status == "regressed"


def test_mcnemar_counts_discordant_pairs():
    r = mcnemar([True, True, False, False, True], [True, False, True, True, True])
    assert (r["b"], r["c"]) == (1, 2) and r["p_value"] == pytest.approx(1.0)
    assert mcnemar([False] * 20, [True] * 20)["p_value"] < 1e-5


def test_numpy_prf_matches_sklearn_on_random_labels():
    import numpy as np
    from sklearn.metrics import precision_recall_fscore_support

    from evalsuite.metrics.classification import prf_from_codes

    rng = np.random.default_rng(0)
    for _ in range(5):
        r, p = rng.integers(0, 4, 30), rng.integers(0, 5, 30)
        for avg in ("macro", "micro", "weighted"):
            ref = precision_recall_fscore_support(r, p, average=avg, zero_division=0)
            for k, kind in enumerate(("precision", "recall", "f1")):
                assert prf_from_codes(kind, avg, p, r, 5) == pytest.approx(ref[k]), (avg, kind)

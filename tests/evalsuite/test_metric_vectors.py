"""Each metric and option reproduces the values its library publishes, through datavet's own registry.

Every vector below is copied from the library's tests or docs, cited next to it (paths under site-packages
are the installed copies; sacrebleu's, jiwer's and HF evaluate's tests/docstrings are not installed, so
their repository file and test are named). Scores go through `metrics_for(..., metric_args)`, the same
path as `evalsuite score --metric-args`.
"""

from __future__ import annotations

import math

import pytest

from evalsuite.metrics import metrics_for, score_all
from evalsuite.metrics.args import parse_metric_args
from evalsuite.metrics.classification import ece, per_class_arrays
from schemas.errors import UsageError


def gen(preds, refs, *args, name, nrefs=1):
    """Score one generation metric with `--metric-args`-style options."""
    ms = {m.name: m for m in metrics_for("generation", parse_metric_args(list(args)), nrefs=nrefs)}
    return ms[name].value(preds, refs), ms[name]


def cls(preds, refs, *args, name, aux=None, **kw):
    ms = {m.name: m for m in metrics_for("classification", parse_metric_args(list(args)), **kw)}
    return ms[name].value(preds, refs, aux)


# sacrebleu README ("Using SacreBLEU from Python"; dist-info/METADATA) and test/test_bleu.py
# `test_corpus_bleu_cases`: two references per segment, given here as a list per item.
HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
REFS2 = [
    ["The dog bit the man.", "The dog had bit the man."],
    ["It was not unexpected.", "No one was surprised."],
    ["The man bit him first.", "The man had bitten the dog."],
]


@pytest.mark.parametrize("args, expected", [
    ((), 48.530827), (("bleu.tokenize=none",), 49.1919566), (("bleu.tokenize=13a",), 48.530827),
    (("bleu.tokenize=intl",), 43.91623493), (("bleu.smooth_method=none",), 48.530827)])
def test_bleu_multi_reference_and_tokenizers_sacrebleu_test_bleu(args, expected):
    value, m = gen(HYPS, REFS2, *args, name="bleu", nrefs=2)
    assert value == pytest.approx(expected, abs=1e-6)
    assert "nrefs:2" in m.signature


def test_bleu_empty_hypotheses_are_scored_not_removed():
    # sacrebleu test/test_bleu.py test_corpus_bleu_cases: (('', '', ''), _refs, {}, 0.0)
    assert gen(["", "", ""], REFS2, name="bleu", nrefs=2)[0] == 0.0


def test_bleu_variable_number_of_references_sacrebleu_readme():
    # sacrebleu README "Variable Number of References": 29.44, signature nrefs:var
    refs = [["The dog had bit the man."], REFS2[1], REFS2[2]]
    value, m = gen(HYPS, refs, name="bleu", nrefs="var")
    assert round(value, 2) == 29.44 and "nrefs:var" in m.signature


# sacrebleu test/test_sentence_bleu.py (example from sacrebleu issue #98): sentence BLEU, effective order on
REF98, SYS98 = "producţia de zahăr brut se exprimă în zahăr alb;", \
    "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"


@pytest.mark.parametrize("args, expected", [
    (("bleu.smooth_method=exp",), 8.493), (("bleu.smooth_method=none",), 0.0),
    (("bleu.smooth_method=floor",), 4.51688), (("bleu.smooth_method=floor", "bleu.smooth_value=0.5"), 10.10),
    (("bleu.smooth_method=add-k",), 14.882), (("bleu.smooth_method=add-k", "bleu.smooth_value=2"), 21.389),
    (("bleu.tokenize=none",), 7.347), (("bleu.tokenize=intl",), 8.493), (("bleu.tokenize=char",), 40.8759),
    (("bleu.tokenize=char", "bleu.lowercase=true"), 42.0267)])
def test_sentence_bleu_items_smoothing_tokenize_lowercase(args, expected):
    _, m = gen([SYS98], [REF98], *args, name="bleu")
    assert m.item_scores([SYS98], [REF98])[0] == pytest.approx(expected, abs=1e-3)
    # corpus BLEU of one segment with effective order on is the same number
    _, eff = gen([SYS98], [REF98], *args, "bleu.effective_order=true", name="bleu")
    assert eff.value([SYS98], [REF98]) == pytest.approx(expected, abs=1e-3)


def test_bleu_effective_order_and_max_ngram_order():
    # sacrebleu test/test_bleu.py test_case_effective_order: ("test", "a test") -> 0.36787944 (x100)
    _, m = gen(["test"], ["a test"], "bleu.effective_order=true", "bleu.smooth_method=floor",
               "bleu.smooth_value=0.01", name="bleu")
    assert m.value(["test"], ["a test"]) == pytest.approx(36.787944117144, abs=1e-6)
    assert "eff:yes" in m.signature
    # max_ngram_order=2 on an exact match of a 2-word sentence is 100 (4-gram BLEU without eff is 0)
    assert gen(["a test"], ["a test"], "bleu.max_ngram_order=2", name="bleu")[0] == pytest.approx(100.0)
    assert gen(["a test"], ["a test"], "bleu.smooth_method=none", name="bleu")[0] == 0.0


def test_bleu_zh_and_ja_mecab_tokenizers():
    # no published vector for these two: checked against sacrebleu called directly with the same settings
    from sacrebleu.metrics import BLEU

    zh, m = gen(["我喜欢猫"], ["我喜欢狗"], "bleu.tokenize=zh", "bleu.effective_order=true", name="bleu")
    assert "tok:zh" in m.signature and 0 < zh < 100
    assert zh == pytest.approx(
        BLEU(tokenize="zh", effective_order=True).corpus_score(["我喜欢猫"], [["我喜欢狗"]]).score
    )
    assert zh != pytest.approx(gen(["我喜欢猫"], ["我喜欢狗"], "bleu.effective_order=true", name="bleu")[0])
    pytest.importorskip("MeCab")
    ja, m = gen(["今日は良い天気です"], ["今日は良い天気ですね"], "bleu.tokenize=ja-mecab", name="bleu")
    assert "tok:ja-mecab" in m.signature
    assert ja == pytest.approx(
        BLEU(tokenize="ja-mecab").corpus_score(["今日は良い天気です"], [["今日は良い天気ですね"]]).score
    )
    assert ja == pytest.approx(81.87, abs=0.01)  # MeCab splits the sentence into words: 13a would give 0


# sacrebleu test/test_chrf.py: test_chrf (beta=3, eps_smoothing), test_chrf_eff_order, keep_whitespace
@pytest.mark.parametrize("hyp, ref, expected", [(["aa"], ["ab"], 8.3333), (["a", "b"], ["a", "c"], 8.3333),
                                                (["a b c"], ["abc"], 50.0), (["a"], ["a"], 16.6667)])
def test_chrf_eps_smoothing_beta(hyp, ref, expected):
    v = gen(hyp, ref, "chrf.beta=3", "chrf.eps_smoothing=true", name="chrf")[0]
    assert v == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("hyp, ref, expected", [(["a"], ["a"], 100.0), (["aa"], ["ab"], 25.0),
                                                (["a", "b"], ["a", "c"], 50.0)])
def test_chrf_effective_order(hyp, ref, expected):
    assert gen(hyp, ref, "chrf.beta=3", name="chrf")[0] == pytest.approx(expected, abs=1e-4)


def test_chrf_whitespace_and_multi_reference_and_chrfpp():
    hyp = ["Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."]
    ref = ["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."]
    v, m = gen(hyp, ref, "chrf.beta=3", "chrf.whitespace=true", name="chrf")
    assert v == pytest.approx(67.3481606, abs=1e-4) and "space:yes" in m.signature
    # README: chrF2 = 59.73
    assert gen(HYPS, REFS2, name="chrf", nrefs=2)[0] == pytest.approx(59.73, abs=0.005)
    import sacrebleu

    v, m = gen(HYPS, REFS2, "chrf.word_order=2", name="chrf", nrefs=2)
    assert "nw:2" in m.signature  # chrF++; no published vector for this input: equal to sacrebleu itself
    assert v == pytest.approx(
        sacrebleu.corpus_chrf(HYPS, [list(x) for x in zip(*REFS2, strict=True)], word_order=2).score
    )


# sacrebleu test/test_ter.py test_cases
@pytest.mark.parametrize(
    "hyp, ref, expected",
    [
        (["aaaa bbbb cccc dddd"], ["aaaa bbbb cccc dddd"], 0.0),
        (["dddd eeee ffff"], ["aaaa bbbb cccc"], 100.0),
        ([""], ["a"], 100.0),
        (["d e f g h a b c"], ["a b c d e f g h"], 12.5),
    ],
)
def test_ter(hyp, ref, expected):
    v, m = gen(hyp, ref, name="ter")
    assert v == pytest.approx(expected, abs=1e-3) and m.higher_is_better is False


def test_ter_options_reach_sacrebleu():
    v, m = gen(["A B"], ["a b"], "ter.case_sensitive=true", name="ter")
    assert v == pytest.approx(100.0) and "case:mixed" in m.signature
    assert gen(["A B"], ["a b"], name="ter")[0] == 0.0
    _, m = gen(["a"], ["a"], "ter.normalized=true", "ter.no_punct=true", "ter.asian_support=true", name="ter")
    assert "norm:yes" in m.signature and "punct:no" in m.signature and "asian:yes" in m.signature


# rouge-score rouge_scorer_test.py (site-packages/rouge_score/rouge_scorer_test.py)
def test_rouge_rouge_scorer_test_vectors():
    ms = {m.name: m for m in metrics_for("generation")}
    # testRouge1: P 1, R 1/3, F 1/2
    d = score_all([ms["rouge1"]], ["testing"], ["testing one two"])["rouge1"]
    assert (d["precision"], d["recall"], d["value"]) == pytest.approx((1, 1 / 3, 1 / 2))
    assert ms["rouge2"].value(["testing one"], ["testing one two"]) == pytest.approx(2 / 3)  # testRouge2
    assert ms["rougeL"].value(["testing two"], ["testing one two"]) == pytest.approx(4 / 5)  # NonConsecutive
    # testRougeLsum: newline-separated summary sentences
    d = score_all([ms["rougeLsum"]], ["w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5"], ["w1 w2 w3 w4 w5"])["rougeLsum"]
    assert (d["recall"], d["precision"], round(d["value"], 4)) == pytest.approx((0.8, 0.4, 0.5333))


@pytest.mark.parametrize("kind", ["rouge1", "rouge2", "rougeL", "rougeLsum"])
def test_rouge_empty_prediction_and_empty_reference_score_zero_and_count(kind):
    # testRougeEmpty / testRougeLsum "Empty case": 0, and the item still counts in the mean
    m = {m.name: m for m in metrics_for("generation")}[kind]
    assert m.value([""], ["testing one two"]) == 0.0
    assert m.value(["w1", "a b"], ["", "a b"]) == pytest.approx(0.5)  # empty target: 0, not dropped


def test_rouge_multi_reference_is_score_multi_max():
    # testRougeAllMulti: targets ["first text", "first something"], prediction "text first"
    ms = {m.name: m for m in metrics_for("generation", nrefs=2)}
    refs = [["first text", "first something"]]
    assert ms["rouge1"].value(["text first"], refs) == pytest.approx(1.0)
    assert ms["rouge2"].value(["text first"], refs) == pytest.approx(0.0)
    assert ms["rougeL"].value(["text first"], refs) == pytest.approx(0.5)
    assert "multi:max_f" in ms["rouge1"].signature


def test_rouge_stemming():
    # tokenizers_test.py test_default_tokenizer_with_stemmer_init: "the friends had a meeting" stems to
    # "the friend had a meet"
    pred, ref = ["the friends had a meeting"], ["the friend had a meet"]
    assert gen(pred, ref, name="rouge1")[0] == pytest.approx(0.6)
    v, m = gen(pred, ref, "rouge.use_stemmer=true", name="rouge1")
    assert v == pytest.approx(1.0) and "stemmer:yes" in m.signature
    # the unicode tokenizer stems too (rouge-score ignores use_stemmer for a custom tokenizer)
    assert gen(pred, ref, "rouge.use_stemmer=true", "rouge.tokenizer=unicode", name="rouge1")[
        0
    ] == pytest.approx(1.0)


def test_rougelsum_sentence_splitting():
    # testRougeLSumSentenceSplitting: without newlines 0.50; split into sentences 1.0
    target, prediction = "First sentence. Second Sentence.", "Second sentence. First Sentence."
    assert gen([prediction], [target], "rouge.use_stemmer=true", name="rougeLsum")[0] == pytest.approx(0.5)
    v, m = gen(
        [prediction], [target], "rouge.use_stemmer=true", "rougeLsum.split_summaries=true", name="rougeLsum"
    )
    assert v == pytest.approx(1.0) and "split:regex" in m.signature


# HF evaluate metrics/exact_match/exact_match.py docstring (also datasets' metrics/exact_match/README.md);
# not in the evaluate wheel, which loads metric scripts from the Hub at run time.
EM_REFS = ["the cat", "theater", "YELLING", "agent007"]
EM_PREDS = ["cat?", "theater", "yelling", "agent"]


@pytest.mark.parametrize("args, expected", [
    ((), 0.25),
    (("exact_match.regexes_to_ignore=['the ', 'yell']", "exact_match.ignore_case=true",
      "exact_match.ignore_punctuation=true"), 0.5),
    (("exact_match.regexes_to_ignore=['the ', 'yell', 'YELL']", "exact_match.ignore_case=true",
      "exact_match.ignore_punctuation=true"), 0.75),
    (("exact_match.regexes_to_ignore=['the ', 'yell', 'YELL']", "exact_match.ignore_case=true",
      "exact_match.ignore_punctuation=true", "exact_match.ignore_numbers=true"), 1.0)])
def test_exact_match_evaluate_docstring(args, expected):
    assert gen(EM_PREDS, EM_REFS, *args, name="exact_match")[0] == pytest.approx(expected)


def test_exact_match_sentences_and_multi_reference():
    refs = ["The cat sat on the mat.", "Theaters are great.", "It's like comparing oranges and apples."]
    preds = ["The cat sat on the mat?", "Theaters are great.", "It's like comparing apples and oranges."]
    assert round(gen(preds, refs, name="exact_match")[0], 2) == 0.33  # evaluate docstring: 0.33
    assert gen(["b"], [["a", "b"]], name="exact_match")[0] == 1.0  # any reference matches


# jiwer tests/test_cer.py (test_input_gt_string_h_string, test_known_values) and tests/test_measures.py
@pytest.mark.parametrize(
    "ref, hyp, expected",
    [
        ("This is a test", "This is a test", 0.0),
        ("This is a test", "", 1.0),
        ("This is a test", "This test", 5 / 14),
    ],
)
def test_cer_jiwer(ref, hyp, expected):
    assert gen([hyp], [ref], name="cer")[0] == pytest.approx(expected)


@pytest.mark.parametrize("ref, hyp, expected", [("X", "X", 0), ("X", "X X Y Y", 3), ("X Y X", "X Z", 2 / 3),
                                                ("X", "Y", 1), ("X", "Y Z", 2)])
def test_wer_jiwer_known_values(ref, hyp, expected):
    # "From WER and RIL to MER and WIL" values used by jiwer's tests/test_measures.py
    v, m = gen([hyp], [ref], name="wer")
    assert v == pytest.approx(expected) and m.higher_is_better is False


def test_cer_corpus_is_pooled_and_empty_reference_counts():
    # jiwer tests/test_cer.py test_return_dict: ["i", "am i good"] vs ["i am", "y good"] -> 0.7
    assert gen(["i am", "y good"], ["i", "am i good"], name="cer")[0] == pytest.approx(0.7)
    # an empty reference adds its insertions to the pooled rate instead of vanishing
    assert gen(["a b", "x"], ["a b", ""], name="wer")[0] == pytest.approx(0.5)


# scikit-learn docstrings (site-packages/sklearn/metrics/_classification.py, _ranking.py)
YT, YP = [0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]


def test_sklearn_prf_docstrings():
    assert cls(YP, YT, name="f1_macro") == pytest.approx(0.2666, abs=1e-3)  # f1_score: 0.267
    assert cls(YP, YT, name="f1_micro") == pytest.approx(1 / 3)  # 0.33
    assert cls(YP, YT, name="precision_macro") == pytest.approx(0.2222, abs=1e-3)  # precision_score: 0.22
    assert cls(YP, YT, name="recall_weighted") == pytest.approx(1 / 3)  # recall_score: 0.33
    # fbeta_score(average='macro', beta=0.5): 0.238; micro 0.33; weighted 0.238
    assert cls(YP, YT, name="fbeta") == pytest.approx(0.2380, abs=1e-3)
    assert cls(YP, YT, "fbeta.average=micro", name="fbeta") == pytest.approx(1 / 3)
    assert cls(YP, YT, "fbeta.beta=1", name="fbeta") == pytest.approx(cls(YP, YT, name="f1_macro"))
    # fbeta_score(y_true, [0]*6, average="macro", zero_division=np.nan, beta=0.5): 0.128
    assert cls([0] * 6, YT, "classification.zero_division=nan", name="fbeta") == pytest.approx(
        0.128, abs=1e-3
    )
    # f1_score(average=None): [0.8, 0, 0]; precision_score(average=None): [0.66, 0, 0]
    a = per_class_arrays(YP, YT)
    assert a["f1"] == pytest.approx([0.8, 0, 0]) and a["precision"] == pytest.approx([2 / 3, 0, 0])


def test_sklearn_zero_division_docstring():
    # f1_score([0]*6, [0]*6) binary: 0.0; zero_division=1.0 -> 1.0; nan -> nan
    z = [0] * 6
    assert cls(z, z, "classification.pos_label=1", name="f1_binary") == 0.0
    assert cls(z, z, "classification.pos_label=1", "classification.zero_division=1", name="f1_binary") == 1.0
    assert math.isnan(
        cls(z, z, "classification.pos_label=1", "classification.zero_division=nan", name="f1_binary")
    )
    with pytest.raises(UsageError):
        cls(z, z, "classification.zero_division=warn", name="f1_macro")


def test_sklearn_mcc_kappa_balanced_docstrings():
    assert cls([1, -1, 1, 1], [1, 1, 1, -1], name="mcc") == pytest.approx(-1 / 3)  # matthews_corrcoef: -0.33
    y1 = ["negative", "positive", "negative", "neutral", "positive"]
    y2 = ["negative", "positive", "negative", "neutral", "negative"]
    assert cls(y2, y1, name="cohen_kappa") == pytest.approx(0.6875)  # cohen_kappa_score
    assert cls([0, 1, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], name="balanced_accuracy") == pytest.approx(0.625)
    from sklearn.metrics import cohen_kappa_score

    q = cls([1, 2, 3, 3], [1, 2, 2, 3], "cohen_kappa.weights=quadratic", name="cohen_kappa")
    assert q == pytest.approx(
        cohen_kappa_score(["1", "2", "2", "3"], ["1", "2", "3", "3"], weights="quadratic")
    )


def test_sklearn_binary_pos_label_and_sample_weight():
    y, p = ["spam", "ham", "ham", "spam"], ["spam", "spam", "ham", "spam"]
    # precision of "spam": 2 of 3 predicted spam are spam; recall 2/2
    assert cls(p, y, "classification.pos_label=spam", name="precision_binary") == pytest.approx(2 / 3)
    assert cls(p, y, "classification.pos_label=ham", name="recall_binary") == pytest.approx(0.5)
    # sample weights: accuracy_score docstring example [0,2,1,3] vs [0,1,2,3] = 0.5; weight the right ones 3x
    w = {"sample_weight": [3, 1, 1, 3]}
    assert cls([0, 2, 1, 3], [0, 1, 2, 3], name="accuracy") == 0.5
    assert cls([0, 2, 1, 3], [0, 1, 2, 3], name="accuracy", aux=w) == pytest.approx(6 / 8)
    from sklearn.metrics import f1_score

    for name, avg in (("f1_macro", "macro"), ("f1_weighted", "weighted")):
        assert cls(YP, YT, name=name, aux={"sample_weight": [1, 2, 3, 1, 2, 3]}) == pytest.approx(
            f1_score(YT, YP, average=avg, sample_weight=[1, 2, 3, 1, 2, 3], zero_division=0))


def test_sklearn_multilabel_and_hamming_docstrings():
    # precision/recall/f1_score multilabel docstrings: indicator rows [[0,0,0],[1,1,1],[0,1,1]] as label lists
    t = [[], ["a", "b", "c"], ["b", "c"]]
    p = [[], ["a", "b", "c"], ["a", "b"]]
    kw = {"multilabel": True}
    assert cls(p, t, name="f1_macro", **kw) == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)  # [0.667, 1, 0.667]
    assert cls(p, t, name="precision_macro", **kw) == pytest.approx((0.5 + 1 + 1) / 3)  # [0.5, 1, 1]
    assert cls(p, t, name="recall_macro", **kw) == pytest.approx((1 + 1 + 0.5) / 3)  # [1, 1, 0.5]
    # hamming_loss(np.array([[0, 1], [1, 1]]), np.zeros((2, 2))) = 0.75; accuracy_score(..., np.ones) = 0.5
    assert cls([[], []], [["b"], ["a", "b"]], name="hamming_loss", **kw) == pytest.approx(0.75)
    assert cls([["a", "b"], ["a", "b"]], [["b"], ["a", "b"]], name="accuracy", **kw) == pytest.approx(0.5)
    names = [m.name for m in metrics_for("classification", multilabel=True)]
    assert {"f1_samples", "precision_micro", "recall_weighted"} <= set(names)


def test_sklearn_top_k_and_brier_docstrings():
    import numpy as np

    labels = ["0", "1", "2"]
    score = np.array([[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]])
    aux = {"probabilities": score}
    # top_k_accuracy_score(y_true, y_score, k=2) = 0.75
    assert cls([0, 1, 1, 0], [0, 1, 2, 2], name="top_k_accuracy", aux=aux, probabilities=True,
               labels=labels) == pytest.approx(0.75)
    # brier_score_loss(["eggs","ham","spam"], [[.8,.1,.1],[.2,.7,.1],[.2,.2,.6]], labels=...) = 0.146
    prob = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.2, 0.2, 0.6]])
    v = cls(["eggs", "ham", "spam"], ["eggs", "ham", "spam"], name="brier", aux={"probabilities": prob},
            probabilities=True, labels=["eggs", "ham", "spam"])
    assert v == pytest.approx(0.146, abs=1e-3)
    # binary: brier_score_loss([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]) = 0.0375 (two columns, halved: "auto")
    pb = np.array([[0.9, 0.1], [0.1, 0.9], [0.2, 0.8], [0.7, 0.3]])
    v = cls([0, 1, 1, 0], [0, 1, 1, 0], name="brier", aux={"probabilities": pb}, probabilities=True,
            labels=["0", "1"])
    assert v == pytest.approx(0.0375)


def test_ece_by_its_definition():
    # Guo et al. 2017 eq. 3, equal-width bins: two bins hold (0.9, 0.9) both right and (0.6, 0.6) one right
    assert ece([0.9, 0.9, 0.6, 0.6], [1, 1, 1, 0], n_bins=10) == pytest.approx(0.5 * 0.1 + 0.5 * 0.1)
    assert ece([1.0, 1.0], [1, 1], n_bins=10) == 0.0
    # weights move mass between bins: the 0.6-bin with weight 0 contributes nothing
    assert ece([0.9, 0.6], [1, 0], n_bins=10, sample_weight=[1, 0]) == pytest.approx(0.1)


def test_every_option_is_in_the_signature_and_typos_are_refused():
    base = {m.name: m.signature for m in metrics_for("generation")}
    for arg, name in [
        ("bleu.tokenize=intl", "bleu"),
        ("chrf.word_order=2", "chrf"),
        ("ter.normalized=true", "ter"),
        ("rouge.use_stemmer=true", "rougeL"),
        ("exact_match.ignore_case=true", "exact_match"),
    ]:
        changed = {m.name: m.signature for m in metrics_for("generation", parse_metric_args([arg]))}
        assert changed[name] != base[name], arg
    c0 = {m.name: m.signature for m in metrics_for("classification")}
    c1 = {
        m.name: m.signature
        for m in metrics_for("classification", parse_metric_args(["cohen_kappa.weights=linear"]))
    }
    assert c0["cohen_kappa"] != c1["cohen_kappa"] and c0["mcc"] == c1["mcc"]
    with pytest.raises(UsageError, match=r"bleu\.tokenise"):
        metrics_for("generation", parse_metric_args(["bleu.tokenise=intl"]))
    with pytest.raises(UsageError):
        metrics_for("generation", parse_metric_args(["bleu.max_ngram_order=many"]))
    with pytest.raises(UsageError):
        parse_metric_args(["bleu=intl"])
    with pytest.raises(UsageError):
        metrics_for("generation", parse_metric_args(["bleu.tokenize=klingon"]))


def test_bootstrap_fast_paths_equal_sklearn_on_random_labels():
    # the bootstrap scores resamples on integer codes; each fast path must equal the sklearn call it replaces,
    # including resamples where some classes are missing
    import warnings

    import numpy as np
    from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score, fbeta_score, matthews_corrcoef

    from evalsuite.metrics.classification import (
        balanced_from_codes,
        kappa_from_codes,
        mcc_from_codes,
        prf_from_codes,
    )

    rng = np.random.default_rng(1)
    for _ in range(20):
        r, p = rng.integers(0, 4, 12), rng.integers(0, 5, 12)
        assert mcc_from_codes(p, r, 5) == pytest.approx(matthews_corrcoef(r, p))
        assert kappa_from_codes(p, r, 5) == pytest.approx(cohen_kappa_score(r, p))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true"
            assert balanced_from_codes(False, p, r, 5) == pytest.approx(balanced_accuracy_score(r, p))
            assert balanced_from_codes(True, p, r, 5) == pytest.approx(
                balanced_accuracy_score(r, p, adjusted=True)
            )
        for avg in ("macro", "micro", "weighted"):
            assert prf_from_codes("fbeta", avg, p, r, 5, beta=0.5) == pytest.approx(
                fbeta_score(r, p, beta=0.5, average=avg, zero_division=0))


def test_statistics_bootstrap_equals_recomputing_the_corpus_score():
    # BLEU/chrF/TER/WER/CER resample per-item statistics (as sacrebleu's paired bootstrap does); the
    # interval must be the one that recomputing the corpus score on every resample gives
    import dataclasses

    from evalsuite.bootstrap import bootstrap_ci, paired_bootstrap

    refs = ["the cat sat on the mat", "a quick brown fox", "hello world", "rain falls in spain", "x y z w"]
    base = ["the cat sat on a mat", "the quick brown fox", "hello", "snow in spain", "x y"]
    tuned = ["the cat sat on the mat", "a quick brown dog", "hello world", "rain in spain", "x y z"]
    for m in metrics_for("generation"):
        if m.stats is None:
            continue
        slow = dataclasses.replace(m, stats=None, from_stats=None, items=None)
        assert paired_bootstrap(m, base, tuned, refs, n_resamples=40, seed=1).ci == pytest.approx(
            paired_bootstrap(slow, base, tuned, refs, n_resamples=40, seed=1).ci), m.name
        assert bootstrap_ci(m, tuned, refs, n_resamples=40, seed=2) == pytest.approx(
            bootstrap_ci(slow, tuned, refs, n_resamples=40, seed=2)), m.name

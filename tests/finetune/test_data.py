"""Tokenizing, completion-only loss masking, truncation counts, batching, class weights, packing."""

from __future__ import annotations

import pytest

from finetune import data as D


@pytest.fixture(scope="module")
def chat_tok(tiny_llama):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_llama))


def _label_text(tok, ex):
    return tok.decode([t for t, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != D.IGNORE])


def test_completion_only_loss_covers_exactly_the_answer(chat_tok):
    ex = D.build_sft_example({"prompt": "Say hi", "completion": "hello there"}, chat_tok, 256)
    assert _label_text(chat_tok, ex).strip() == "hello there<|im_end|>"
    # every label is the token itself where it is not masked: no shift happens at build time
    assert all(lab in (D.IGNORE, t) for t, lab in zip(ex["input_ids"], ex["labels"], strict=True))
    assert "Say hi" in chat_tok.decode(ex["input_ids"])
    assert len(ex["input_ids"]) == len(ex["labels"]) == len(ex["attention_mask"])


def test_loss_on_all_labels_every_token(chat_tok):
    ex = D.build_sft_example({"prompt": "Say hi", "completion": "hello"}, chat_tok, 256, loss_on="all")
    assert ex["labels"] == ex["input_ids"]


def test_multi_turn_chat_masks_each_assistant_turn(chat_tok):
    rec = {
        "messages": [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": "two"},
            {"role": "assistant", "content": "second answer"},
        ]
    }
    text = _label_text(chat_tok, D.build_sft_example(rec, chat_tok, 256))
    assert "first answer" in text and "second answer" in text
    assert "one" not in text and "two" not in text


def test_no_template_falls_back_to_prompt_newline_completion(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_bert))
    assert not tok.chat_template
    ex = D.build_sft_example({"prompt": "question", "completion": "answer"}, tok, 64)
    assert _label_text(tok, ex).startswith("answer")


def test_truncation_is_counted_and_answerless_rows_dropped(chat_tok):
    long_prompt = {"prompt": "word " * 300, "completion": "short"}
    ok = {"prompt": "hi", "completion": "hello"}
    examples, stats = D.tokenize_split([long_prompt, ok], chat_tok, "sft", 64)
    assert stats == {"rows": 2, "truncated": 1, "no_answer_tokens": 1}
    assert len(examples) == 1 and all(len(e["input_ids"]) <= 64 for e in examples)


def test_classification_truncation_counted(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_bert))
    recs = [{"text": "a " * 100, "label": "x"}, {"text": "b", "label": "y"}]
    examples, stats = D.tokenize_split(recs, tok, "classification", 16, label2id={"x": 0, "y": 1})
    assert stats["truncated"] == 1
    assert [e["labels"] for e in examples] == [0, 1]
    assert len(examples[0]["input_ids"]) == 16


def test_length_grouped_batches_are_deterministic_and_cover_everything():
    lengths = [((i * 37) % 50) + 1 for i in range(203)]
    a = D.length_grouped_batches(lengths, 8, seed=3)
    assert a == D.length_grouped_batches(lengths, 8, seed=3)
    assert a != D.length_grouped_batches(lengths, 8, seed=4)
    assert sorted(i for b in a for i in b) == list(range(203))
    # grouping cuts padding against a plain shuffle
    pad = lambda bs: sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in bs)  # noqa: E731
    assert pad(a) < pad(D.plain_batches(203, 8, seed=3)) / 3


def test_balanced_class_weights_match_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    train = [{"label": "a"}] * 8 + [{"label": "b"}] * 2
    _, l2i = D.label_maps(train)
    w = D.class_weight_vector(train, l2i, "balanced")
    import numpy as np

    ref = compute_class_weight(
        "balanced", classes=np.array(["a", "b"]), y=np.array([r["label"] for r in train])
    )
    assert w == pytest.approx(list(ref))
    assert D.class_weight_vector(train, l2i, {"b": 3.0}) == [1.0, 3.0]
    with pytest.raises(D.FinetuneError, match="unknown labels"):
        D.class_weight_vector(train, l2i, {"zzz": 2.0})


def test_class_weights_change_the_loss(tiny_bert):
    import torch
    from transformers import AutoModelForSequenceClassification

    from finetune.train import compute_loss

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert), num_labels=2)
    with torch.no_grad():  # a lopsided head, so the two examples' losses differ and weights matter
        model.classifier.bias.copy_(torch.tensor([2.0, -2.0]))
    batch = D.collate(
        [{"input_ids": [101, 2000, 102], "labels": 0}, {"input_ids": [101, 2001, 2002, 102], "labels": 1}], 0
    )
    batch.pop("n_tokens")
    plain, logits = compute_loss(model.eval(), batch, "classification")
    weighted, _ = compute_loss(model, batch, "classification", torch.tensor([1.0, 3.0]))
    logp = torch.log_softmax(logits, -1)
    expected = -(1.0 * logp[0, 0] + 3.0 * logp[1, 1]) / 4.0  # torch's weighted mean divides by the weight sum
    assert float(weighted.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
    # the misclassified minority example now counts 3x
    assert float(weighted.detach()) > float(plain.detach()) + 0.5


def test_packing_restarts_positions_per_example():
    exs = [{"input_ids": [1] * n, "labels": [5] * n, "attention_mask": [1] * n} for n in (6, 5, 3, 2)]
    rows = D.pack_examples(exs, 8)
    assert sorted(len(r["input_ids"]) for r in rows) == [8, 8]
    assert {tuple(r["position_ids"]) for r in rows} == {(0, 1, 2, 3, 4, 5, 0, 1), (0, 1, 2, 3, 4, 0, 1, 2)}
    batch = D.collate(rows, 0)
    assert "attention_mask" not in batch and batch["position_ids"].shape == (2, 8)


def test_packing_blocks_attention_across_samples(tiny_llama):
    """A packed row's second example gives the same logits as that example alone."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama)).eval()
    a, b = [1, 400, 500, 600], [1, 700, 800]
    packed = D.collate(D.pack_examples([{"input_ids": a, "labels": a, "attention_mask": [1] * 4},
                                        {"input_ids": b, "labels": b, "attention_mask": [1] * 3}], 8), 0)
    with torch.no_grad():
        together = model(
            input_ids=packed["input_ids"], position_ids=packed["position_ids"], use_cache=False
        ).logits
        alone = model(input_ids=torch.tensor([b])).logits
    assert torch.allclose(together[0, 4:7], alone[0], atol=1e-5)


def test_macro_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    from finetune.train import macro_f1

    # evalsuite's definition (labels present in gold or predictions), not all of the model's classes
    golds, preds = [0, 0, 1, 1, 2, 2, 2, 0], [0, 1, 1, 1, 0, 2, 1, 0]
    assert macro_f1(golds, preds) == pytest.approx(f1_score(golds, preds, average="macro", zero_division=0))

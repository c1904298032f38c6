"""Sliding-window perplexity against naive loops on a tiny random Llama (2 layers, hidden 64, seed 0)."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch

from evalsuite.perplexity import perplexity, windows
from schemas.errors import UsageError


class CharTokenizer:
    """Bytes as tokens, with a BOS (id 1) added like Llama tokenizers do; pad id 0."""

    bos_token_id, pad_token_id = 1, 0

    def __call__(self, text, add_special_tokens=True):
        ids = [2 + (b % 60) for b in text.encode("utf-8")]
        return {"input_ids": ([self.bos_token_id] if add_special_tokens else []) + ids}


@pytest.fixture(scope="module")
def tiny():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=64, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256)
    return LlamaForCausalLM(cfg).eval(), CharTokenizer()


DOCS = ["the cat sat on the mat", "hello", "a longer document " * 2]


def _nll_prefix(model, ids, t, begin=0):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids[begin:t]])).logits[0, -1].float()
    return -float(torch.log_softmax(logits, -1)[ids[t]])


def test_full_context_equals_per_token_prefix_loop(tiny):
    model, tok = tiny
    res = perplexity(model, tok, DOCS, max_length=256, stride=256, batch_size=2)
    total, n = 0.0, 0
    for d in DOCS:
        ids = tok(d)["input_ids"]
        for t in range(1, len(ids)):  # first token (BOS) is context only
            total += _nll_prefix(model, ids, t)
            n += 1
    assert res.n_tokens == n
    assert res.token_perplexity == pytest.approx(math.exp(total / n), rel=1e-4)
    assert res.bits_per_byte == pytest.approx(
        total / math.log(2) / sum(len(d.encode()) for d in DOCS), rel=1e-4
    )
    assert res.word_perplexity == pytest.approx(math.exp(total / sum(len(d.split()) for d in DOCS)), rel=1e-4)
    assert "max_length:256" in res.signature and "bos:tokenizer" in res.signature


def test_sliding_windows_equal_the_transformers_docs_loop(tiny):
    model, tok = tiny
    max_len, stride = 16, 8
    res = perplexity(model, tok, DOCS, max_length=max_len, stride=stride, batch_size=3)
    total, n = 0.0, 0
    for d in DOCS:  # the loop from the transformers perplexity guide, with exact per-token sums
        ids = torch.tensor([tok(d)["input_ids"]])
        prev_end = 0
        for begin in range(0, ids.size(1), stride):
            end = min(begin + max_len, ids.size(1))
            trg_len = end - prev_end
            inp = ids[:, begin:end]
            tgt = inp.clone()
            tgt[:, :-trg_len] = -100
            with torch.no_grad():
                out = model(input_ids=inp, labels=tgt)
            k = int((tgt[:, 1:] != -100).sum())
            total += float(out.loss) * k
            n += k
            prev_end = end
            if end == ids.size(1):
                break
    assert res.n_tokens == n
    assert res.token_perplexity == pytest.approx(math.exp(total / n), rel=1e-4)


def test_windows_score_each_token_once():
    for n, m, s in [(1, 4, 2), (10, 4, 2), (17, 5, 3), (5, 8, 4), (9, 4, 3)]:
        scored = [t for b, e, f in windows(n, m, s) for t in range(f, e)]
        assert scored == list(range(1, n)), (n, m, s)
        assert all(e - b <= m for b, e, _ in windows(n, m, s))
    # stride == max_length: as in the transformers loop, a window's first token has no context and is skipped
    assert [t for b, e, f in windows(10, 4, 4) for t in range(f, e)] == [1, 2, 3, 5, 6, 7, 9]


def test_completion_only_scoring(tiny):
    model, tok = tiny
    docs = [{"prompt": "question: what?", "completion": " answer here"}]
    res = perplexity(model, tok, docs, max_length=256)
    assert res.n_tokens == len(b" answer here")
    assert "scored:completion" in res.signature


def test_bad_window_is_a_usage_error(tiny):
    model, tok = tiny
    with pytest.raises(UsageError) as e:
        perplexity(model, tok, DOCS, max_length=8, stride=16)
    assert e.value.fix


def test_works_on_in_memory_peft_model(tiny):
    from peft import LoraConfig, get_peft_model

    model, tok = tiny
    base = perplexity(model, tok, DOCS[:1], max_length=64)
    torch.manual_seed(0)
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=2, target_modules=["q_proj"]))
    res = perplexity(peft_model, tok, DOCS[:1], max_length=64)
    # a freshly initialised LoRA (B = 0) leaves the function unchanged
    assert res.token_perplexity == pytest.approx(base.token_perplexity, rel=1e-5)
    with torch.no_grad():  # and a trained-looking one changes it: the PEFT weights are really used
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.5)
    assert perplexity(peft_model, tok, DOCS[:1], max_length=64).token_perplexity != pytest.approx(
        base.token_perplexity, rel=1e-3)


@pytest.fixture(scope="module")
def tiny_chat(tmp_path_factory):
    """A tiny random Llama saved with the real SmolLM2 tokenizer (which has a chat template)."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from finetune.models import smollm2_dir

    tok = AutoTokenizer.from_pretrained(str(smollm2_dir()))
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                      num_key_value_heads=1, intermediate_size=128, max_position_embeddings=256,
                      pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    folder = tmp_path_factory.mktemp("tiny-chat")
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return LlamaForCausalLM.from_pretrained(folder).eval(), tok, folder


SFT = [
    {"prompt": "Name the colour: the red car.", "completion": "red"},
    {
        "prompt": "Say hello to Ann, please, in a long and polite sentence.",
        "completion": "Hello Ann, nice to meet you.",
    },
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]},
]


def test_sft_perplexity_equals_the_trainers_loss(tiny_chat):
    from evalsuite.perplexity import sft_perplexity
    from finetune.data import build_sft_example

    model, tok, _ = tiny_chat
    res = sft_perplexity(model, tok, SFT, max_length=64, batch_size=2)
    total, n = 0.0, 0
    for r, nll_sum, k in zip(SFT, res.doc_nll_sum, res.doc_tokens, strict=True):
        ex = build_sft_example(r, tok, 64, loss_on="completion")
        with torch.no_grad():  # transformers' own shifted, -100-masked mean loss, one record at a time
            loss = model(input_ids=torch.tensor([ex["input_ids"]]), labels=torch.tensor([ex["labels"]])).loss
        assert k == sum(t != -100 for t in ex["labels"][1:])
        assert nll_sum == pytest.approx(float(loss) * k, rel=1e-4)
        total, n = total + float(loss) * k, n + k
    assert res.token_perplexity == pytest.approx(math.exp(total / n), rel=1e-4)
    assert (
        res.signature
        == "ppl:sft|template:chat|max_length:64|scored:completion tokens only|agg:token_weighted"
    )
    # truncation at the trainer's max_length drops the answers of long prompts; they are counted, not scored
    short = sft_perplexity(model, tok, SFT, max_length=40)
    assert short.truncated >= 1 and short.n_tokens < res.n_tokens
    with pytest.raises(UsageError) as e:
        sft_perplexity(model, tok, ["plain text"], max_length=64)
    assert e.value.fix


def test_perplexity_cli_template_auto_and_raw(tiny_chat, tmp_path):
    from typer.testing import CliRunner

    from evalsuite.cli import app

    _, _, folder = tiny_chat
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), **r}) + "\n" for i, r in enumerate(SFT[:2])))
    out = {}
    for template in ("auto", "raw"):
        j = tmp_path / f"{template}.json"
        r = CliRunner().invoke(
            app,
            [
                "perplexity",
                "--model",
                str(folder),
                "--data",
                str(data),
                "--kind",
                "completion",
                "--template",
                template,
                "--max-length",
                "64",
                "--json",
                str(j),
            ],
        )
        assert r.exit_code == 0, r.output
        out[template] = json.loads(j.read_text())["metrics"]["token_perplexity"]
    assert (
        "template:chat" in out["auto"]["signature"] and "completion tokens only" in out["auto"]["signature"]
    )
    assert out["raw"]["signature"].startswith("ppl:sliding") and "template" not in out["raw"]["signature"]
    assert out["auto"]["value"] != pytest.approx(out["raw"]["value"])
    from common.cli import run_app

    # the CLI wrapper turns the UsageError into one panel and exit code 2
    assert (
        run_app(
            app, "evalsuite", ["perplexity", "--model", str(folder), "--data", str(data), "--template", "x"]
        )
        == 2
    )


def test_perplexity_slices_are_token_weighted_per_group():
    from evalsuite.perplexity_slices import group_value, perplexity_by_group

    # group a: two documents, 3 + 1 tokens, NLL 3 + 3 -> exp(6 / 4); not the mean of exp(1) and exp(3)
    rows = perplexity_by_group([3.0, 3.0, 2.0, 0.0], [3, 1, 2, 0], ["a", "a", "b", "c"], n_resamples=200)
    a, b, c = rows
    assert a["value"] == "a" and a["token_perplexity"] == pytest.approx(math.exp(1.5)) and a["n_tokens"] == 4
    assert a["ci"][0] <= a["token_perplexity"] <= a["ci"][1]
    assert b["token_perplexity"] == pytest.approx(math.e) and b["ci"] == pytest.approx([math.e, math.e])
    assert c["n_documents"] == 1 and c["token_perplexity"] is None  # counted, not dropped
    assert (
        group_value({"metadata": {"lang": "de"}}, "lang") == "de" and group_value({}, "lang") == "(missing)"
    )


def test_perplexity_cli_slice_by_equals_scoring_each_group_alone(tiny_chat, tmp_path):
    from typer.testing import CliRunner

    from evalsuite.cli import app

    _, _, folder = tiny_chat
    rows = [{"id": str(i), "group": g, **r} for i, (g, r) in enumerate(zip(["x", "y"], SFT[:2], strict=True))]
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    j = tmp_path / "all.json"
    r = CliRunner().invoke(
        app,
        [
            "perplexity",
            "--model",
            str(folder),
            "--data",
            str(data),
            "--kind",
            "completion",
            "--max-length",
            "64",
            "--slice-by",
            "group",
            "--json",
            str(j),
        ],
    )
    assert r.exit_code == 0, r.output
    groups = {g["value"]: g for g in json.loads(j.read_text())["slices"]["group"]}
    for i, name in enumerate(["x", "y"]):
        one = tmp_path / f"{name}.jsonl"
        one.write_text(json.dumps(rows[i]) + "\n")
        jo = tmp_path / f"{name}.json"
        r = CliRunner().invoke(
            app,
            [
                "perplexity",
                "--model",
                str(folder),
                "--data",
                str(one),
                "--kind",
                "completion",
                "--max-length",
                "64",
                "--json",
                str(jo),
            ],
        )
        assert r.exit_code == 0, r.output
        alone = json.loads(jo.read_text())["metrics"]["token_perplexity"]["value"]
        assert groups[name]["token_perplexity"] == pytest.approx(alone, rel=1e-5)


def test_bf16_perplexity_is_near_fp32_and_named_in_the_signature(tiny, tiny_chat):
    """bf16 autocast changes the figures a little (bf16 matmuls, fp32 NLL sums) and says so in the signature;
    fp32 keeps the signature it always had."""
    from common.precision import cpu_has_bf16
    from evalsuite.perplexity import perplexity, sft_perplexity

    if not cpu_has_bf16():
        pytest.skip("this CPU has no bf16 instructions (bf16 is refused here: tested below)")
    model, tok = tiny
    fp32 = perplexity(model, tok, DOCS, max_length=16, stride=8)
    bf16 = perplexity(model, tok, DOCS, max_length=16, stride=8, precision="bf16")
    assert "precision" not in fp32.signature and bf16.signature == fp32.signature + "|precision:bf16"
    assert bf16.n_tokens == fp32.n_tokens
    assert bf16.token_perplexity == pytest.approx(fp32.token_perplexity, rel=0.02)
    assert bf16.token_perplexity != fp32.token_perplexity   # autocast did run: the matmuls were bf16
    chat_model, chat_tok, _ = tiny_chat
    a = sft_perplexity(chat_model, chat_tok, SFT, max_length=64)
    b = sft_perplexity(chat_model, chat_tok, SFT, max_length=64, precision="bf16")
    assert b.signature == a.signature + "|precision:bf16"
    assert b.token_perplexity == pytest.approx(a.token_perplexity, rel=0.02)


def test_perplexity_cli_precision(tiny_chat, tmp_path, monkeypatch):
    """--precision bf16 is refused (exit 2, before any weights load) on a CPU without bf16 instructions, and
    where the CPU has them it reaches the scoring: the JSON signature and manifest say bf16."""
    from common import precision
    from common.cli import run_app
    from evalsuite.cli import app

    _, _, folder = tiny_chat
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), **r}) + "\n" for i, r in enumerate(SFT[:2])))
    args = ["perplexity", "--model", str(folder), "--data", str(data), "--max-length", "64"]
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    assert run_app(app, "evalsuite", [*args, "--precision", "bf16"]) == 2
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    j = tmp_path / "bf16.json"
    assert run_app(app, "evalsuite", [*args, "--precision", "bf16", "--json", str(j)]) == 0
    got = json.loads(j.read_text())
    assert got["metrics"]["token_perplexity"]["signature"].endswith("|precision:bf16")
    assert got["manifest"]["config"]["precision"] == "bf16"

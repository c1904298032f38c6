"""token_audit: truncation and lost completion tokens counted with a real (tiny, word-level) tokenizer.

The tokenizer is built in a fixture: one token per whitespace-separated word, plus a chat template that adds
one role token per turn, so every expected count below can be worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.checks.token_audit import TokenAuditCheck, audit, load_tokenizer
from curate.errors import CurateError
from curate.io import load
from curate.runner import default_context
from schemas.findings import CheckStatus
from schemas.records import RecordKind

WORDS = [f"w{i}" for i in range(50)]
TEMPLATE = ("{% for m in messages %}<{{ m.role }}> {{ m.content }} {% endfor %}"
            "{% if add_generation_prompt %}<assistant> {% endif %}")


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, PreTrainedTokenizerFast

    d = tmp_path_factory.mktemp("tok")
    specials = ["<unk>", "<pad>", "<eos>", "<user>", "<assistant>", "<system>"]
    vocab = {t: i for i, t in enumerate(specials + WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>"
    )
    tok.chat_template = TEMPLATE
    tok.save_pretrained(d)
    # A model folder needs a config; a tiny one (2 layers, hidden 64) as for every unit-test model.
    GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=len(vocab)).save_pretrained(d)
    return d


def words(n: int, start: int = 0) -> str:
    return " ".join(WORDS[(start + i) % len(WORDS)] for i in range(n))


def ctx_of(tmp_path: Path, rows: list[dict], kind: str | None = None, **options):
    p = tmp_path / "data.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return default_context(load(p, kind=kind), **options)


def test_completion_counts_prompt_template_and_eos(tok_dir):
    tok = load_tokenizer(str(tok_dir))
    a = audit([{"prompt": words(3), "completion": words(2)}], RecordKind.completion, tok, max_length=100)
    # <user> 3 words <assistant> = 5 prompt tokens; + 2 completion words + <eos> = 8
    assert a["prompt_tokens"] == [5] and a["tokens"] == [8]


def test_completion_truncated_and_prompt_filling_max_length(tmp_path, tok_dir):
    rows = [{"id": "fits", "prompt": words(3), "completion": words(3)},          # 5 + 4 = 9 tokens
            {"id": "cut", "prompt": words(4), "completion": words(10)},          # 6 + 11 = 17 tokens
            {"id": "lost", "prompt": words(12), "completion": words(2)}]         # prompt alone 14 tokens
    ctx = ctx_of(tmp_path, rows, tokenizer=str(tok_dir), max_length=12)
    r = TokenAuditCheck().run(ctx)
    got = {f.id: f.reason for f in r.findings}
    assert got == {"cut": "truncated", "lost": "no_completion_tokens"}
    cut = next(f for f in r.findings if f.id == "cut")
    assert cut.tokens == 17 and cut.lost_tokens == 5
    assert r.summary["truncated"] == 2 and r.summary["no_completion_tokens"] == 1
    assert r.findings[0].id == "lost" and r.status is CheckStatus.fail


def test_chat_prompt_is_everything_before_the_first_answer(tmp_path, tok_dir):
    rows = [{"id": "ok", "messages": [{"role": "user", "content": words(2)},
                                      {"role": "assistant", "content": words(2)}]},
            {"id": "long_q", "messages": [{"role": "system", "content": words(5)},
                                          {"role": "user", "content": words(6)},
                                          {"role": "assistant", "content": words(1)}]}]
    ctx = ctx_of(tmp_path, rows, kind="chat", tokenizer=str(tok_dir), max_length=10)
    r = TokenAuditCheck().run(ctx)
    # long_q prompt: <system> + 5 + <user> + 6 + <assistant> = 14 >= 10
    assert {f.id: f.reason for f in r.findings} == {"long_q": "no_completion_tokens"}
    assert r.summary["prompt_tokens"]["max"] == 14


def test_classification_truncation_and_skip_without_options(tmp_path, tok_dir):
    rows = [{"id": "a", "text": words(4), "label": "x"}, {"id": "b", "text": words(30), "label": "y"}]
    r = TokenAuditCheck().run(ctx_of(tmp_path, rows, tokenizer=str(tok_dir), max_length=10))
    assert [(f.id, f.reason, f.tokens) for f in r.findings] == [("b", "truncated", 30)]
    assert TokenAuditCheck().run(ctx_of(tmp_path, rows)).status is CheckStatus.skipped


def test_text_documents_are_packed_not_truncated(tmp_path, tok_dir):
    rows = [{"id": "a", "text": words(4)}, {"id": "b", "text": words(30)}, {"id": "c", "text": words(11)}]
    r = TokenAuditCheck().run(ctx_of(tmp_path, rows, tokenizer=str(tok_dir), max_length=10))
    assert r.status is CheckStatus.passed and r.findings == []
    s = r.summary
    assert (s["kind"], s["tokens_total"], s["blocks"], s["documents_longer_than_a_block"]) == (
        "text",
        45,
        5,
        2,
    )
    assert s["truncated"] == 0 and s["tokens_lost"] == 0 and "nothing is truncated" in r.message


def test_not_a_tokenizer_folder_is_a_user_error(tmp_path):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(CurateError) as e:
        load_tokenizer(str(tmp_path))
    assert e.value.fix


@pytest.mark.slow
def test_smollm2_on_bundled_bbc_finds_prompts_that_fill_max_length():
    ctx = default_context(load("bundled:bbc", limit=300), tokenizer="smollm2", max_length=64)
    r = TokenAuditCheck().run(ctx)
    assert r.summary["chat_template"] is True
    assert r.summary["no_completion_tokens"] > 0
    assert r.summary["truncated"] >= r.summary["no_completion_tokens"]


def test_the_summary_is_the_one_the_check_declares_and_draws(tmp_path, tok_dir):
    from curate.checks.token_audit import TokenAuditSummary
    from tests.curate.summary_support import assert_declared

    chat = [{"id": "c", "messages": [{"role": "user", "content": words(2)},
                                     {"role": "assistant", "content": words(2)}]}]
    cases = [([{"id": "a", "prompt": words(3), "completion": words(2)}], None, ["full", "prompt"]),
             (chat, "chat", ["full", "prompt"]),
             ([{"id": "a", "text": words(4), "label": "x"}], None, ["full"]),
             ([{"id": "a", "text": words(4)}], None, ["full"])]
    for k, (rows, kind, drawn) in enumerate(cases):
        d = tmp_path / str(k)
        d.mkdir()
        r = TokenAuditCheck().run(ctx_of(d, rows, kind=kind, tokenizer=str(tok_dir), max_length=10))
        assert_declared(r.summary, TokenAuditSummary)
        (table,) = TokenAuditCheck.report_blocks(r)
        assert [row[0] for row in table.rows] == drawn
        assert table.columns == ["sequence", "min", "median", "p95", "p99", "max"]

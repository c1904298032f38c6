"""The checks and options the Ray engine used to refuse give the local engine's answers: made-up ids renamed
on a clash, `token_audit` (a tokenizer in each worker), and `leakage` against another file or between the
values of a split field (exact and near copies, per field).

The Ray tests share one local Ray instance (2 CPUs); their corpora are small because every Ray run costs
tens of seconds on the shared 2-core machine. The id rule itself is compared with the local loader without
Ray, on random id sequences.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from curate.pipeline import run_pipeline
from schemas.configs.curate import CurateConfig
from tests.curate.ray_support import WORDS, differences, kept_rows, write_planted
from tests.curate.test_token_audit import tok_dir  # noqa: F401  (the word-level tokenizer fixture)

TOK_WORDS = [f"w{i}" for i in range(50)]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _cfg(path: Path, out: Path, **extra) -> CurateConfig:
    return CurateConfig.model_validate({"fail_on": "never", **extra, "input": {"path": str(path)},
                                        "out": str(out)})


# -- ids: the family rule equals the local loader's, without Ray

def test_settle_family_is_the_local_loaders_rule(tmp_path):
    """Random rows with and without ids (ids drawn so that clashes, take-backs and `~N` chains happen):
    the family-wise replay gives the local loader's final ids, duplicate_id rows and notes."""
    from curate.engines.ray.ids import id_root, settle_family
    from curate.io import load

    rng = random.Random(3)
    choices = ["0", "1", "2", "3", "0~1", "1~1", "0~1~1", "0~2", "x", "x~1"]
    for trial in range(40):
        rows = []
        for _ in range(rng.randint(2, 14)):
            r = {"text": f"t{rng.random()}", "label": "a"}
            if rng.random() < 0.6:
                r["id"] = rng.choice(choices)
            rows.append(r)
        p = _write(tmp_path / f"ids{trial}.jsonl", rows)
        local = load(p)
        members = [(i, r.get("id", str(i)), "id" in r) for i, r in enumerate(rows)]
        families: dict[str, list] = {}
        for m in members:
            families.setdefault(id_root(m[1]), []).append(m)
        changes = sorted(c for fam in families.values() for c in settle_family(fam, (1 << 40) - 1))
        final = {pos: rid for pos, rid, _ in members}
        final.update({pos: new for pos, (what, new) in changes if what == "rename"})
        dup = {pos for pos, (what, _) in changes if what == "dup"}
        assert [final[i] for i in range(len(rows)) if i not in dup] == [r["id"] for r in local.records]
        assert sorted(q.row for q in local.quarantine) == sorted(dup)
        notes = [text for _, (what, text) in changes if what == "note"]
        assert [x for x in local.summary.notes if "got a new id" in x] == (
            [f"{len(notes)} row(s) without an id got a new id because the input uses their row number as "
             f"another row's id: " + "; ".join(notes[:3]) + (" ..." if len(notes) > 3 else "")]
            if notes else [])


# -- on Ray

ray = pytest.importorskip("ray")


def test_made_up_ids_renamed_as_locally(local_ray, tmp_path):
    """Rows without an id whose row number another row uses as its id: renamed to `ID~N` (an explicit id
    taking its id back, a `~N` chain, a later made-up id), and a repeated explicit id quarantined."""
    from curate.engines.ray import run_ray_pipeline

    rng = random.Random(2)
    t = [{"text": " ".join(rng.choice(WORDS) for _ in range(12)), "label": "ab"[i % 2]} for i in range(12)]
    rows = [t[0], {"id": "0", **t[1]}, t[2], {"id": "0~1", **t[3]}, {"id": "2", **t[4]}, {"id": "0", **t[5]},
            {"id": "10", **t[6]}, {"id": "10~1", **t[7]}, t[8], {"id": "8", **t[9]}, t[10],
            {"id": "x", **t[11]}]
    src = _write(tmp_path / "clash.jsonl", rows)
    loc = run_pipeline(_cfg(src, tmp_path / "local"))
    run_ray_pipeline(_cfg(src, tmp_path / "ray"))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    ids = [r["id"] for r in kept_rows(tmp_path / "ray")]
    assert {"0~1~1", "2~1", "8~1", "10~2"} <= set(ids)
    assert loc.quarantined == 1 and any("got a new id" in x for x in loc.report.input.notes)


def test_token_audit_minilm_same_answers(local_ray, tmp_path):
    """Classification rows, the bundled MiniLM tokenizer named by its short name in every worker."""
    from curate.engines.ray import run_ray_pipeline

    src = write_planted(tmp_path / "planted.jsonl", 160)[0]
    conf = {"tokenizer": "minilm", "max_length": 16, "mask_pii": True,
            "normalize": {"labels": ["positive", "negative", "neutral"]}}
    loc = run_pipeline(_cfg(src, tmp_path / "local", **conf))
    run_ray_pipeline(_cfg(src, tmp_path / "ray", **conf))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    audit = next(c for c in loc.report.checks if c.name == "token_audit")
    assert audit.summary["truncated"] > 0 and audit.summary["tokens"]["max"] > 16


def _completion_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """Data and --against rows (prompt/completion over the word-level tokenizer's words) with exact and
    near copies of against prompts and completions, copies of copies, and prompts that fill max length."""
    rng = random.Random(5)

    def words(n: int) -> list[str]:
        return [rng.choice(TOK_WORDS) for _ in range(n)]

    base = [words(rng.randint(30, 40)) for _ in range(30)]
    against = [{"id": f"a{i}", "prompt": " ".join(b), "completion": " ".join(words(rng.randint(1, 6)))}
               for i, b in enumerate(base)]
    against.append({"id": "a0", "prompt": "repeated id", "completion": "w1"})   # duplicate_id there
    against.append({"prompt": against[3]["prompt"], "completion": "w2 w3"})    # an exact copy, no id
    data = []
    for i in range(70):
        r = rng.random()
        if i < 6:
            prompt = list(base[i])                                            # exact copy of a{i}
        elif i < 16:
            prompt = list(base[i])
            prompt[rng.randrange(len(prompt))] = "w49"                       # near copy of a{i}
        elif i < 20:
            prompt = list(data[i - 10]["prompt"].split())                    # copy of a near copy
            if i >= 18:
                prompt[rng.randrange(len(prompt))] = "w48"
        else:
            prompt = words(rng.randint(3, 44))                               # new; some fill max length
        completion = against[i % 30]["completion"] if r < 0.2 else " ".join(words(rng.randint(1, 12)))
        data.append({"id": f"d{i}", "prompt": " ".join(prompt), "completion": completion})
    return _write(tmp_path / "data.jsonl", data), _write(tmp_path / "against.jsonl", against)


def test_completion_token_audit_and_leakage_against_same_answers(local_ray, tmp_path, tok_dir):  # noqa: F811
    from curate.engines.ray import run_ray_pipeline

    data, against = _completion_corpus(tmp_path)
    conf = {"tokenizer": str(tok_dir), "max_length": 36, "against": str(against),
            "disable": ["conflicting_responses"]}
    loc = run_pipeline(_cfg(data, tmp_path / "local", **conf))
    run_ray_pipeline(_cfg(data, tmp_path / "ray", **conf))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    by = {c.name: c for c in loc.report.checks}
    audit, leak = by["token_audit"].summary, by["leakage"].summary
    # the corpus reaches every branch compared: both token reasons, exact and near leaks in both fields
    assert audit["truncated"] > 0 and audit["no_completion_tokens"] > 0
    assert leak["exact"] > 0 and leak["near"] > 0 and leak["by_field"]["completion"] > 0
    copied = {f.id: f.copies for f in by["leakage"].findings if f.field == "prompt"}
    assert copied["d0"] == "a0"


def test_leakage_split_field_same_answers(local_ray, tmp_path):
    """A metadata field names the splits (planted rows carry `src`: a/b); the first value seen is the
    originals' split."""
    from curate.engines.ray import run_ray_pipeline

    src = write_planted(tmp_path / "planted.jsonl", 240)[0]
    loc = run_pipeline(_cfg(src, tmp_path / "local", split_field="src"))
    run_ray_pipeline(_cfg(src, tmp_path / "ray", split_field="src"))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    leak = next(c for c in loc.report.checks if c.name == "leakage")
    assert leak.summary["exact"] > 0 and leak.summary["near"] > 0


def _chat_corpus(tmp_path: Path) -> Path:
    """Chat rows over the word-level tokenizer's words: long system turns that fill max length, tool
    definitions and tool calls the template cannot render (notes), and test rows copying train rows."""
    rng = random.Random(9)

    def words(n: int) -> str:
        return " ".join(rng.choice(TOK_WORDS) for _ in range(n))

    rows, train = [], []
    for i in range(40):
        msgs = [{"role": "user", "content": words(rng.randint(20, 30))},
                {"role": "assistant", "content": words(rng.randint(2, 12))}]
        if i % 7 == 3:
            msgs.insert(0, {"role": "system", "content": words(30)})
        if i % 5 == 2:
            call = {"id": "k1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            msgs[-1:] = [{"role": "assistant", "content": "", "tool_calls": [call]},
                     {"role": "tool", "content": words(2), "tool_call_id": "k1"},
                     {"role": "assistant", "content": words(3)}]
        split = "train" if i < 25 else "test"
        if split == "test" and i % 3 == 0:
            msgs = json.loads(json.dumps(rng.choice(train)))                  # exact copy of a train row
        elif split == "test" and i % 3 == 1:
            msgs = json.loads(json.dumps(rng.choice(train)))
            msgs[-1]["content"] = msgs[-1]["content"] + " w1"                 # near copy
        row = {"id": f"c{i}", "messages": msgs, "split": split}
        if i % 9 == 1:
            row["tools"] = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
        rows.append(row)
        if split == "train":
            train.append(msgs)
    return _write(tmp_path / "chat.jsonl", rows)


def test_chat_token_audit_and_leakage_split_same_answers(local_ray, tmp_path, tok_dir):  # noqa: F811
    """Chat data: the whole conversation through the chat template, template notes counted in order of
    first appearance, and the conversations of one split copying another's."""
    from curate.engines.ray import run_ray_pipeline

    src = _chat_corpus(tmp_path)
    conf = {"tokenizer": str(tok_dir), "max_length": 40, "split_field": "split",
            "disable": ["conflicting_responses", "schema"]}
    loc = run_pipeline(_cfg(src, tmp_path / "local", **conf))
    run_ray_pipeline(_cfg(src, tmp_path / "ray", **conf))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    by = {c.name: c for c in loc.report.checks}
    audit, leak = by["token_audit"].summary, by["leakage"].summary
    assert audit["no_completion_tokens"] > 0 and len(audit["template_notes"]) == 2
    assert leak["mode"] == "split_field=split (originals: train)" and leak["exact"] > 0 and leak["near"] > 0


def test_expectations_row_wise_suite_same_answers(local_ray, tmp_path):
    """A suite of row-wise expectations (null, set, range, regex, length, with and without `mostly`) runs per
    batch on Ray, here over three shards, with the local result; a whole-column expectation is refused by
    name with the fix."""
    from curate.engines.ray import run_ray_pipeline
    from curate.errors import ConfigError

    one = write_planted(tmp_path / "one.jsonl", 300)[0]
    write_planted(tmp_path / "shards", 300, shards=3)
    suite = {"expectations": [
        {"type": "column_values_to_be_in_set", "column": "label", "value_set": ["positive", "negative"]},
        {"type": "column_value_lengths_to_be_between", "column": "text", "min_value": 1, "max_value": 150,
         "severity": "error"},
        {"type": "column_values_to_match_regex", "column": "id", "regex": "^r[0-9]$", "mostly": 0.01},
        {"type": "column_values_to_be_between", "column": "n_chars", "min_value": 40, "mostly": 0.9},
        {"type": "column_values_to_not_be_null", "column": "group", "mostly": 0.5},
        {"type": "column_values_to_not_match_regex", "column": "text", "regex": "@example"}]}
    conf = {"checks": {"expectations": suite}, "normalize": {"labels": ["positive", "negative", "neutral"]}}
    loc = run_pipeline(_cfg(one, tmp_path / "local", **conf))
    run_ray_pipeline(_cfg(tmp_path / "shards", tmp_path / "ray", **conf))
    assert differences(tmp_path / "local", tmp_path / "ray", same_source=False) == []
    res = next(c for c in loc.report.checks if c.name == "expectations")
    # passing and failing expectations (with and without `mostly`) are both compared
    assert 0 < res.summary["successful"] < res.summary["evaluated"] and res.count > 0

    whole = {"expectations": [{"type": "expect_column_values_to_be_unique", "column": "id"},
                              {"type": "column_values_to_not_be_null", "column": "text"},
                              {"type": "column_values_to_be_in_set", "column": "src", "value_set": ["a"]}]}
    with pytest.raises(ConfigError) as e:
        run_ray_pipeline(_cfg(one, tmp_path / "ray2", checks={"expectations": whole}))
    msg = str(e.value)
    assert "expect_column_values_to_be_unique(id), expect_column_values_to_be_in_set(src)" in msg
    assert "to_not_be_null" not in msg and "--engine local" in msg

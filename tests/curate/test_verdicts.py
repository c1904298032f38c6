"""Issue 11: verdicts on data shaped like the failures — a file sorted by label, one-class subsets, copies
that
differ only in line breaks, t.co variants, labels declared but never seen, a load where every row is bad."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import curate.cli
from curate import load
from curate.checks.class_balance import ClassBalanceCheck
from curate.checks.conflicting_labels import ConflictingLabelsCheck
from curate.checks.exact_duplicate import ExactDuplicateCheck
from curate.checks.near_duplicate import NearDuplicateCheck
from curate.dedup.key import dedup_key
from curate.normalize import normalized_context
from curate.pipeline import run_pipeline
from curate.report import build_qa_report
from curate.runner import build_checks, check_report, default_context, gate_fails, run_checks
from curate.split import split_records
from curate.subset import reservoir
from schemas.configs.curate import CurateConfig
from schemas.configs.dedup_key import DedupKeyConfig
from schemas.configs.split import SplitConfig

LABELS = ("negative", "neutral", "positive")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _sorted_file(tmp_path: Path, per_class: int = 100) -> Path:
    """Like bundled:tweets: every negative row first, then neutral, then positive."""
    rows = [{"id": f"{lab[:3]}{i}", "text": f"{lab} opinion number {i} about the flight {i * 7919 % 1000}",
             "label": lab} for lab in LABELS for i in range(per_class)]
    return _write(tmp_path / "sorted.jsonl", rows)


# --- item 1: --sample vs --head on a sorted file
# ----------------------------------------------------------------

def test_head_of_a_sorted_file_is_one_class_and_a_sample_is_not(tmp_path):
    p = _sorted_file(tmp_path)
    head = load(p, head=50)
    assert {r["label"] for r in head.records} == {"negative"}
    assert "first 50 rows" in head.summary.subset
    sample = load(p, sample=50, seed=3)
    assert len(sample.records) == 50 and sample.summary.rows_read == 50
    assert set(Counter(r["label"] for r in sample.records)) == set(LABELS)
    assert "random sample of 50 of 300 rows" in sample.summary.subset
    # seeded: the same seed gives the same rows, another seed other rows
    assert [r["id"] for r in load(p, sample=50, seed=3).records] == [r["id"] for r in sample.records]
    assert [r["id"] for r in load(p, sample=50, seed=4).records] != [r["id"] for r in sample.records]
    assert load(p).summary.subset is None


def test_reservoir_keeps_source_order_and_counts_the_stream():
    picked, seen = reservoir(range(1000), 10, seed=0)
    assert seen == 1000 and len(picked) == 10 and picked == sorted(picked)
    assert reservoir(range(5), 10)[0] == [0, 1, 2, 3, 4]
    # every position can be drawn: over many seeds the sample reaches the end of the stream
    assert max(max(reservoir(range(100), 5, seed=s)[0]) for s in range(20)) > 90


def test_sampled_rows_keep_their_quarantine_accounting(tmp_path):
    p = tmp_path / "mixed.jsonl"
    p.write_text("".join(json.dumps({"id": str(i), "text": f"row {i}", "label": "ab"[i % 2]}) + "\n"
                         if i % 5 else "{broken\n" for i in range(200)), encoding="utf-8")
    d = load(p, sample=40, seed=1)
    assert d.summary.rows_read == 40 == d.summary.rows_loaded + d.summary.rows_quarantined
    assert d.summary.rows_quarantined > 0


def test_cli_sample_head_and_deprecated_limit(tmp_path, run_module):
    p = _sorted_file(tmp_path)
    r = run_module("curate", "check", str(p), "--head", "60", "--json", str(tmp_path / "h.json"),
                   "--fail-on", "never")
    assert r.returncode == 0, r.stderr
    h = json.loads((tmp_path / "h.json").read_text())
    cb = next(c for c in h["checks"] if c["name"] == "class_balance")
    assert cb["status"] == "fail" and "single class" in cb["message"]
    r = run_module(
        "curate",
        "check",
        str(p),
        "--sample",
        "60",
        "--seed",
        "1",
        "--json",
        str(tmp_path / "s.json"),
        "--fail-on",
        "never",
    )
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert len(next(c for c in s["checks"] if c["name"] == "class_balance")["summary"]["counts"]) == 3
    assert s["input"]["subset"].startswith("a random sample of 60")
    r = run_module(
        "curate", "check", str(p), "--limit", "60", "--json", str(tmp_path / "l.json"), "--fail-on", "never"
    )
    assert r.returncode == 0
    assert (
        "--limit is deprecated" in r.stderr
        and len([ln for ln in r.stderr.splitlines() if "deprecated" in ln]) == 1
    )
    assert json.loads((tmp_path / "l.json").read_text())["input"]["rows_read"] == 60
    r = run_module("curate", "check", str(p), "--head", "5", "--sample", "5")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_curate_run_config_samples_with_input_sample(tmp_path):
    cfg = CurateConfig.model_validate(
        {
            "input": {"path": str(_sorted_file(tmp_path)), "sample": 90, "seed": 2},
            "out": str(tmp_path / "out"),
            "fail_on": "never",
            "report": False,
        }
    )
    res = run_pipeline(cfg)
    assert res.rows_read == 90
    kept = [json.loads(x) for x in (tmp_path / "out" / "curated.jsonl").read_text().splitlines()]
    assert {r["label"] for r in kept} == set(LABELS)


# --- item 3: declared vs seen labels, one class, zero rows
# ------------------------------------------------------

def _ctx(tmp_path: Path, rows: list[dict], **options):
    return normalized_context(load(_write(tmp_path / "d.jsonl", rows)), **options)


def test_class_balance_fails_on_declared_labels_never_seen_and_on_one_class(tmp_path):
    from schemas.configs.curate import NormalizeConfig

    rows = [{"id": str(i), "text": f"t {i}", "label": "negative" if i % 2 else "neutral"} for i in range(40)]
    norm = NormalizeConfig(labels=list(LABELS))
    r = ClassBalanceCheck().run(_ctx(tmp_path, rows, normalize=norm))
    assert r.status.value == "fail" and r.summary["missing_labels"] == ["positive"]
    assert "never occur: positive" in r.message
    assert ClassBalanceCheck().run(_ctx(tmp_path, rows)).status.value == "pass"  # nothing declared
    one = [{"id": str(i), "text": f"t {i}", "label": "negative"} for i in range(40)]
    r = ClassBalanceCheck().run(_ctx(tmp_path, one))
    assert r.status.value == "fail" and "single class" in r.message


def test_zero_rows_loaded_means_not_run_never_pass(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(
        json.dumps({"text": "a\u0000b", "label": "x"})
        + "\n"
        + json.dumps({"text": ["x"], "label": "y"})
        + "\n{broken\n",
        encoding="utf-8",
    )
    data = load(p)
    assert data.summary.rows_loaded == 0
    ctx = default_context(data)
    report = check_report(data, run_checks(build_checks(), ctx))
    by = {c.name: c.status.value for c in report.checks}
    assert by.pop("schema") == "fail"
    # no check passes: each one that applies to classification data is not_run
    assert by and all(s in ("not_run", "not_applicable") for s in by.values()), by
    assert by["exact_duplicate"] == by["class_balance"] == "not_run"
    assert gate_fails(report, "error")
    v = build_qa_report(report, ctx).verdict
    assert v.status == "fail" and "No rows loaded" in v.headline


# --- item 6: the duplicate key
# ----------------------------------------------------------------------------------

TWEET = "check out our new flight deals to denver this weekend"


def test_duplicate_key_folds_whitespace_and_masks_social_trivia():
    assert dedup_key("a  b\nc\r\n d") == "a b c d"
    social = DedupKeyConfig.from_spec("social")
    a = dedup_key(f"@united {TWEET}!! http://t.co/AbC123", social)
    b = dedup_key(f"@AmericanAir {TWEET} https://t.co/xyz9", social)
    assert a == b
    assert dedup_key(f"{TWEET} 2 tickets", social) == dedup_key(f"{TWEET} 14 tickets", social)
    assert dedup_key("Hello", DedupKeyConfig.from_spec("case")) == dedup_key(
        "hello", DedupKeyConfig.from_spec("case")
    )
    assert DedupKeyConfig.from_spec("none").identity


def test_line_break_copies_are_exact_duplicates_by_default(tmp_path):
    rows = [{"id": "a", "text": f"{TWEET} and more words here", "label": "x"},
            {"id": "b", "text": f"{TWEET}\nand more words here", "label": "x"},
            {"id": "c", "text": f"{TWEET}\n\nand more\nwords here", "label": "x"},
            {"id": "d", "text": "something else entirely different", "label": "y"}]
    r = ExactDuplicateCheck().run(_ctx(tmp_path, rows))
    assert sorted((f.id, f.duplicate_of) for f in r.findings) == [("b", "a"), ("c", "a")]
    assert r.summary["duplicate_key"] == "whitespace"
    r = ExactDuplicateCheck().run(_ctx(tmp_path, rows, dedup_key=DedupKeyConfig.from_spec("none")))
    assert r.findings == []


def test_tco_variants_are_duplicates_under_the_social_key(tmp_path):
    rows = [
        {"id": f"t{i}", "text": f"@user{i} {TWEET} http://t.co/{i:06x}q", "label": "neutral"}
        for i in range(6)
    ]
    rows.append({"id": "z", "text": "a completely unrelated sentence about luggage", "label": "negative"})
    assert ExactDuplicateCheck().run(_ctx(tmp_path, rows)).findings == []
    social = DedupKeyConfig.from_spec("social")
    r = ExactDuplicateCheck().run(_ctx(tmp_path, rows, dedup_key=social))
    assert sorted(f.id for f in r.findings) == [f"t{i}" for i in range(1, 6)]
    nd = NearDuplicateCheck().run(_ctx(tmp_path, rows, dedup_key="social"))
    assert nd.summary["duplicate_key"] == "whitespace,urls,mentions,numbers,punctuation"


WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "omicron",
]


def _tco_rows(copies: int = 4) -> list[dict]:
    rows = []
    for g, word in enumerate(WORDS):
        for c in range(copies):
            rows.append({"id": f"g{g}c{c}", "label": "ab"[g % 2],
                         "text": f"@fan{c} news about {word} today{'!' * c} http://t.co/{g}{c}x"})
    return rows


def test_split_straddle_count_is_true_under_the_key_and_grouping_by_it_keeps_groups_whole():
    rows = _tco_rows()
    social = DedupKeyConfig.from_spec("social")
    # not grouped: the t.co variants land in several splits, and the manifest says so under the key
    res = split_records(rows, SplitConfig(val=0.25, test=0.25, dedup_key=social, seed=1))
    assert res.manifest().exact_duplicate_texts_straddling > 0
    assert res.manifest().duplicate_key == "whitespace,urls,mentions,numbers,punctuation"
    # the default key sees no identical texts at all, so it truthfully reports 0
    assert split_records(rows, SplitConfig(val=0.25, test=0.25, seed=1)).exact_duplicate_texts_straddling == 0
    # grouped under the social key: every variant of a tweet in one split, and the group id in each row
    res = split_records(
        rows, SplitConfig(val=0.25, test=0.25, dedup_key=social, group_by="exact_duplicate", seed=1)
    )
    assert res.groups == 12 and res.groups_straddling == 0 and res.exact_duplicate_texts_straddling == 0
    where: dict[str, set[str]] = {}
    for name in res.files:
        for r in res.rows(name):
            assert r["group"] == f"g{r['id'].split('c')[0][1:]}c0"  # the cluster's first row
            where.setdefault(r["group"], set()).add(name)
    assert all(len(v) == 1 for v in where.values())


def test_split_files_are_shuffled_and_carry_group_ids(tmp_path, run_main):
    p = _sorted_file(tmp_path, per_class=60)
    out = tmp_path / "splits"
    assert run_main(curate.cli.main, ["split", str(p), "--out", str(out), "--group-by", "near_duplicate",
                                      "--seed", "5"]) == 0
    input_order = [json.loads(x)["id"] for x in p.read_text().splitlines()]
    rank = {rid: i for i, rid in enumerate(input_order)}
    for name in ("train", "val", "test"):
        rows = [json.loads(x) for x in (out / f"{name}.jsonl").read_text().splitlines()]
        ids = [r["id"] for r in rows]
        assert ids != sorted(ids, key=rank.__getitem__), f"{name} is in input order"
        assert all(r["group"] is not None for r in rows)
        # the first rows of a file are no longer one class
        assert len({r["label"] for r in rows[:10]}) > 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["order"] == "shuffled" and manifest["duplicate_key"] == "whitespace"
    # same seed, same bytes
    out2 = tmp_path / "splits2"
    assert run_main(curate.cli.main, ["split", str(p), "--out", str(out2), "--group-by", "near_duplicate",
                                      "--seed", "5"]) == 0
    assert (out / "test.jsonl").read_bytes() == (out2 / "test.jsonl").read_bytes()


def test_split_of_a_one_class_head_warns(tmp_path, run_module):
    p = _sorted_file(tmp_path)
    r = run_module("curate", "split", str(p), "--out", str(tmp_path / "s"), "--head", "80")
    assert r.returncode == 0, r.stderr
    assert "single class" in r.stdout
    assert "first 80 rows" in r.stderr
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["warnings"] and "single class" in manifest["warnings"][0]


# --- item 5: conflicting labels point at the row to fix
# ---------------------------------------------------------

def test_conflicting_labels_mark_the_minority_as_likely_errors(tmp_path):
    text = "the flight was delayed for three hours and nobody told us anything"
    rows = [{"id": f"m{i}", "text": text, "label": "negative"} for i in range(5)]
    rows.insert(2, {"id": "odd", "text": text, "label": "positive"})
    rows += [{"id": "t1", "text": "seats were fine i guess", "label": "neutral"},
             {"id": "t2", "text": "seats were fine i guess", "label": "positive"}]  # a tie: both suspect
    r = ConflictingLabelsCheck().run(_ctx(tmp_path, rows))
    first = r.findings[0]
    assert first.id == "odd" and first.likely_error is True and first.majority_label == "negative"
    assert (
        first.severity.value == "error"
        and text in first.message
        and "majority 'negative' (5 of 6)" in first.message
    )
    majority = [f for f in r.findings if f.id.startswith("m")]
    assert len(majority) == 5 and all(
        f.likely_error is False and f.severity.value == "info" for f in majority
    )
    tie = {f.id: f for f in r.findings if f.id.startswith("t")}
    assert all(f.likely_error and f.majority_label is None for f in tie.values())
    assert [f.likely_error for f in r.findings] == sorted((f.likely_error for f in r.findings), reverse=True)
    assert r.count == 3 and r.summary["likely_errors"] == 3


def test_curate_run_removes_only_the_likely_errors_and_the_terminal_shows_text(tmp_path, run_module):
    text = "the flight was delayed for three hours and nobody told us anything"
    rows = [{"id": f"m{i}", "text": text + " " * i, "label": "negative"} for i in range(5)]
    rows.append({"id": "odd", "text": text, "label": "positive"})
    rows += [{"id": f"u{i}", "text": f"unique row {i} about {w}", "label": "ab"[i % 2]}
             for i, w in enumerate(["food", "seats", "crew", "wifi", "legroom"])]
    p = _write(tmp_path / "d.jsonl", rows)
    cfg = CurateConfig.model_validate(
        {
            "input": {"path": str(p)},
            "out": str(tmp_path / "out"),
            "fail_on": "never",
            "remove": {"exact_duplicates": False, "near_duplicates": False, "conflicting_labels": True},
            "report": False,
        }
    )
    res = run_pipeline(cfg)
    removed = [json.loads(x) for x in (tmp_path / "out" / "removed.jsonl").read_text().splitlines()]
    assert [(r["id"], r["reason"], r["majority_label"]) for r in removed] == [
        ("odd", "conflicting_labels", "negative")
    ]
    assert res.kept == len(rows) - 1
    r = run_module("curate", "check", str(p), "--fail-on", "never")
    line = next(ln for ln in r.stdout.splitlines() if "conflicting_labels" in ln)
    assert "odd" in line and "delayed for three hours" in line


# --- item 8: expectations name the file's own columns
# -----------------------------------------------------------

def test_expectations_accept_the_files_column_names(tmp_path):
    from curate.checks.expectations import ExpectationsCheck

    p = tmp_path / "reviews.csv"
    p.write_text("review,sentiment\ngood food,pos\n,neg\nbad wifi,neg\n", encoding="utf-8")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: reviews\nexpectations:\n"
        "  - type: expect_column_values_to_be_in_set\n    column: sentiment\n    value_set: [pos]\n"
        "  - type: expect_column_value_lengths_to_be_between\n    column: review\n    min_value: 1\n",
        encoding="utf-8",
    )
    data = load(p)
    r = ExpectationsCheck({"suite": str(suite)}).run(normalized_context(data))
    assert r.status.value != "error", r.message
    assert {(f.column, f.id) for f in r.findings} >= {("sentiment", "2")}


# --- item 4: the QA and curate-run verdicts
# ---------------------------------------------------------------------

def test_qa_verdict_names_the_failed_checks_and_why(tmp_path):
    text = "the flight was delayed for three hours and nobody told us anything"
    rows = [{"id": "a", "text": text, "label": "negative"}, {"id": "b", "text": text, "label": "positive"}]
    rows += [{"id": f"u{i}", "text": f"unique row {i} about {w}", "label": "negative"}
             for i, w in enumerate(["food", "seats", "crew", "wifi", "legroom"])]
    data = load(_write(tmp_path / "d.jsonl", rows))
    ctx = default_context(data)
    report = check_report(data, run_checks(build_checks(), ctx))
    v = build_qa_report(report, ctx).verdict
    assert v.status == "fail" and v.outcome == "gate failed"
    assert "conflicting_labels" in v.headline and "class_balance" in v.headline
    assert any(r.startswith("class_balance (fail):") for r in v.reasons)
    never = build_qa_report(report, ctx, fail_on="never").verdict
    assert never.status == "fail" and "not enforced" in never.headline


def test_curate_run_report_opens_with_where_every_row_went(tmp_path):
    rows = [
        {"id": str(i), "text": f"row number {i} " + "abcdefghij"[i % 10] * (i % 7 + 1), "label": "ab"[i % 2]}
        for i in range(30)
    ]
    rows.append({"id": "dup", "text": rows[0]["text"], "label": "a"})
    p = tmp_path / "d.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    cfg = CurateConfig.model_validate(
        {"input": {"path": str(p)}, "out": str(tmp_path / "out"), "fail_on": "never"}
    )
    res = run_pipeline(cfg)
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    v = rep["verdict"]
    assert v["headline"].startswith(f"Kept {res.kept:,} of {res.rows_read:,} rows")
    assert f"removed {res.removed:,} (exact_duplicate 1) → removed.jsonl" in v["reasons"]
    assert f"quarantined {res.quarantined:,} at load → quarantine.jsonl" in v["reasons"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert md.splitlines()[2].startswith("> ")  # the banner is the first thing under the title


def test_terminal_prints_the_verdict_and_config_limit_is_a_deprecated_head(tmp_path, run_module):
    p = _sorted_file(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"input:\n  path: {p}\n  limit: 50\nout: {tmp_path / 'out'}\nfail_on: error\nreport: false\n",
        encoding="utf-8",
    )
    r = run_module("curate", "run", str(cfg))
    assert r.returncode == 1, r.stderr  # one class: class_balance fails the gate
    assert "input.limit is deprecated" in r.stderr
    assert "GATE FAILED: Kept " in r.stdout and "class_balance" in r.stdout
    assert "rows read 50 = kept" in r.stdout


def test_leakage_uses_the_duplicate_key(tmp_path):
    from curate.checks.leakage import LeakageCheck

    rows = [{"id": f"tr{i}", "text": f"@a{i} {w} fares are up again http://t.co/x{i}", "label": "neg",
             "split": "train"} for i, w in enumerate(WORDS[:6])]
    rows += [{"id": f"te{i}", "text": f"@b{i} {w} fares are up again!! https://t.co/y{i}", "label": "neg",
              "split": "test"} for i, w in enumerate(WORDS[:6])]
    plain = LeakageCheck().run(_ctx(tmp_path, rows, split_field="split"))
    social = LeakageCheck().run(_ctx(tmp_path, rows, split_field="split", dedup_key="social"))
    assert sum(f.match == "exact" for f in plain.findings) == 0
    assert sorted((f.id, f.copies, f.match) for f in social.findings) == [
        (f"te{i}", f"tr{i}", "exact") for i in range(6)
    ]

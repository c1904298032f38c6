"""The Ray engine gives the local engine's answers: kept rows, removed rows with their clusters, quarantine
and every check's result, on a planted corpus (one file, and the same rows as shards) and on bundled:tweets.

One local Ray instance (conftest's `local_ray`: 2 CPUs, a 256 MiB object store) serves the whole module;
the two-node cluster test is in test_ray_cluster.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.pipeline import run_pipeline
from schemas.configs.curate import CurateConfig
from tests.curate.ray_support import differences, kept_rows, write_planted

ray = pytest.importorskip("ray")

CONF = {"normalize": {"labels": ["positive", "negative", "neutral"], "html": "unescape"},
        "remove": {"conflicting_labels": True}, "mask_pii": True, "fail_on": "never",
        "checks": {"bias": {"terms": ["alpha"]}}}


def _cfg(path, out, **extra) -> CurateConfig:
    return CurateConfig.model_validate({**CONF, **extra, "input": {"path": str(path)}, "out": str(out)})


def test_planted_corpus_same_answers(local_ray, tmp_path):
    from curate.engines.ray import run_ray_pipeline

    src = write_planted(tmp_path / "planted.jsonl", 400)[0]
    loc = run_pipeline(_cfg(src, tmp_path / "local"))
    res = run_ray_pipeline(_cfg(src, tmp_path / "ray"))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    # the corpus plants every kind of answer the comparison covers
    assert loc.quarantined > 0 and {
        "exact_duplicate",
        "near_duplicate",
        "conflicting_labels",
        "empty",
    } <= set(loc.removed_by_reason)
    assert loc.pii_masked > 0 and (res.kept, res.removed, res.pii_masked) == (
        loc.kept,
        loc.removed,
        loc.pii_masked,
    )
    assert res.rows_read == res.kept + res.quarantined + res.removed
    assert len(list((tmp_path / "ray" / "curated").glob("part-*.jsonl"))) >= 2   # written as shards


def test_driver_keeps_only_the_first_findings(local_ray, tmp_path, monkeypatch):
    """Findings are written by the workers: with a cap of 3 findings per check, the driver's result (and
    checks.json) holds the local engine's first 3 findings of each check and its counts, while the findings
    files, removed.jsonl and quarantine.jsonl hold every finding and row."""
    import json

    from curate.engines.ray import findings, run_ray_pipeline

    src = write_planted(tmp_path / "planted.jsonl", 400)[0]
    loc = run_pipeline(_cfg(src, tmp_path / "local"))
    monkeypatch.setattr(findings, "CAP", 3)
    res = run_ray_pipeline(_cfg(src, tmp_path / "ray"))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    over = [c for c in loc.report.checks if len(c.findings) > 3]
    assert {"normalization", "exact_duplicate", "near_duplicate", "conflicting_labels", "length"} <= {
        c.name for c in over}
    got = {c.name: c for c in res.report.checks}
    assert max(len(c.findings) for c in res.report.checks) == 3
    for c in over:
        r = got[c.name]
        assert (r.findings, r.count, r.status) == (c.findings[:3], c.count, c.status)
        lines = (tmp_path / "ray" / r.findings_file).read_text(encoding="utf-8").splitlines()
        assert r.findings_file == f"findings/{c.name}.jsonl" and len(lines) == len(c.findings)
    assert loc.removed > 3 and loc.quarantined > 3
    for name in ("removed.jsonl", "quarantine.jsonl"):
        assert (tmp_path / "ray" / name).read_text(encoding="utf-8") == (tmp_path / "local" / name).read_text(
            encoding="utf-8")
    on_disk = json.loads((tmp_path / "ray" / "checks.json").read_text(encoding="utf-8"))
    assert max(len(c["findings"]) for c in on_disk["checks"]) == 3
    assert not (tmp_path / "ray" / findings.PARTS).exists()   # the part files were joined and removed


def test_shards_give_the_single_file_answers(local_ray, tmp_path):
    from curate.engines.ray import run_ray_pipeline

    one = write_planted(tmp_path / "one.jsonl", 400)[0]
    write_planted(tmp_path / "shards", 400, shards=3)
    run_pipeline(_cfg(one, tmp_path / "local", mask_pii=False))
    run_ray_pipeline(_cfg(tmp_path / "shards", tmp_path / "ray", mask_pii=False))
    assert differences(tmp_path / "local", tmp_path / "ray", same_source=False) == []
    assert kept_rows(tmp_path / "ray")


def test_no_duplicates_at_all(local_ray, tmp_path):
    """No exact group, no candidate pair: the empty paths give the local answers too."""
    import json

    from curate.engines.ray import run_ray_pipeline

    src = tmp_path / "unique.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": i, "text": f"row {i} says {'x' * i}", "label": "ab"[i % 2]}) + "\n"
            for i in range(40)
        ),
        encoding="utf-8",
    )
    loc = run_pipeline(_cfg(src, tmp_path / "local", normalize={}))
    run_ray_pipeline(_cfg(src, tmp_path / "ray", normalize={}))
    assert loc.removed == 0
    assert differences(tmp_path / "local", tmp_path / "ray") == []


def test_rows_without_ids(local_ray, tmp_path):
    """Rows without an id get their row number, as on the local engine; when another row's id equals such a
    made-up id, both engines rename the row to `0~1` (more cases in test_ray_ops.py)."""
    import json

    from curate.engines.ray import run_ray_pipeline

    rows = [{"text": f"row {i} says {'x' * i}", "label": "ab"[i % 2]} for i in range(30)]
    src = tmp_path / "noids.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run_pipeline(_cfg(src, tmp_path / "local", normalize={}))
    run_ray_pipeline(_cfg(src, tmp_path / "ray", normalize={}))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    assert [r["id"] for r in kept_rows(tmp_path / "ray")][:3] == ["0", "1", "2"]

    clash = tmp_path / "clash.jsonl"
    clash.write_text("".join(json.dumps(r) + "\n" for r in [rows[0], {"id": "0", **rows[1]}, rows[2]]),
                     encoding="utf-8")
    run_pipeline(_cfg(clash, tmp_path / "local2", normalize={}))
    assert {r["id"] for r in kept_rows(tmp_path / "local2")} == {"0~1", "0", "2"}
    run_ray_pipeline(_cfg(clash, tmp_path / "ray2", normalize={}))
    assert differences(tmp_path / "local2", tmp_path / "ray2") == []


def test_head_reads_the_first_rows_like_the_local_engine(local_ray, tmp_path):
    from curate.engines.ray import run_ray_pipeline
    from curate.errors import ConfigError

    src = write_planted(tmp_path / "p.jsonl", 300)[0]
    head = {"input": {"path": str(src), "head": 40}}
    loc = run_pipeline(CurateConfig.model_validate({**CONF, **head, "out": str(tmp_path / "local")}))
    res = run_ray_pipeline(CurateConfig.model_validate({**CONF, **head, "out": str(tmp_path / "ray")}))
    assert res.rows_read == loc.rows_read == 40  # --head was read as the local engine reads it, not ignored
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    write_planted(tmp_path / "shards", 90, shards=3)
    for inp, word in (({"path": str(tmp_path / "shards"), "head": 10}, "head"),
                      ({"path": str(src), "sample": 10}, "sample")):
        with pytest.raises(ConfigError, match=word):
            run_ray_pipeline(CurateConfig.model_validate({**CONF, "input": inp, "out": str(tmp_path / word)}))


def test_unsupported_check_is_a_config_error(local_ray, tmp_path):
    from curate.engines.ray import run_ray_pipeline
    from curate.errors import ConfigError

    src = write_planted(tmp_path / "p.jsonl", 50)[0]
    with pytest.raises(ConfigError, match="semantic_duplicate"):
        run_ray_pipeline(_cfg(src, tmp_path / "ray", enable=["semantic_duplicate"]))
    with pytest.raises(ConfigError, match="split stage"):
        run_ray_pipeline(_cfg(src, tmp_path / "ray", split={"test": 0.2}))


def test_masking_duplicate_key_same_answers(local_ray, tmp_path):
    """A `dedup_key` that masks URLs, mentions, punctuation and case: rows that repeat another only up to
    those are exact (or near) duplicates and conflicts on both engines alike."""
    import json

    from curate.engines.ray import run_ray_pipeline
    from tests.curate.ray_support import planted_rows

    lines = planted_rows(300)
    texts = [json.loads(x)["text"] for x in lines[:120] if x.endswith("}") and "text" in json.loads(x)]
    texts = list(dict.fromkeys(" ".join(t.lower().split()) for t in texts if t.strip()))[:15]
    for i, t in enumerate(texts):   # twice the same words: another mention, link, punctuation and case
        a = f"@alice{i} " + ", ".join(t.upper().split()) + f"! https://t.co/a{i}"
        b = f"@bob{i} " + t + f" ... http://t.co/b{i}?x=1"
        lines.append(json.dumps({"id": f"a{i}", "text": a, "label": "positive"}))
        lines.append(json.dumps({"id": f"b{i}", "text": b, "label": ["positive", "negative"][i % 2]}))
    src = tmp_path / "masked.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    key = {"whitespace": True, "urls": True, "mentions": True, "punctuation": True, "case": True}
    loc = run_pipeline(_cfg(src, tmp_path / "local", dedup_key=key))
    run_ray_pipeline(_cfg(src, tmp_path / "ray", dedup_key=key))
    assert differences(tmp_path / "local", tmp_path / "ray") == []
    exact = next(c for c in loc.report.checks if c.name == "exact_duplicate")
    assert exact.summary["duplicate_key"] == "whitespace,urls,mentions,punctuation,case"
    # the key is what made each pair duplicates: every b{i} is an exact duplicate of a{i}
    dups = {(f.id, f.duplicate_of) for f in exact.findings}
    assert all((f"b{i}", f"a{i}") in dups for i in range(len(texts)))


@pytest.mark.slow
def test_bundled_tweets_same_answers(local_ray, tmp_path):
    """38k rows: about 2.5 minutes on the shared 2-core machine, hence slow."""
    from curate.engines.ray import run_ray_pipeline
    from schemas.configs.base import load_config
    path = Path(__file__).resolve().parents[2] / "configs" / "curate" / "tweets.yaml"
    run_pipeline(load_config(CurateConfig, path, [f"out={tmp_path / 'local'}"]))
    run_ray_pipeline(load_config(CurateConfig, path, [f"out={tmp_path / 'ray'}"]))
    assert differences(tmp_path / "local", tmp_path / "ray") == []


def test_cli_engine_ray(local_ray, tmp_path, capsys):
    """`curate run CONFIG --engine ray` runs the Ray engine (it reuses the running Ray) and says so in the
    manifest; --address without --engine ray is a usage error (exit 2)."""
    import json

    import yaml

    from curate.cli import main

    src = write_planted(tmp_path / "p.jsonl", 120)[0]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({**CONF, "input": {"path": str(src)}, "out": str(tmp_path / "out")}))
    with pytest.raises(SystemExit) as e:
        main(["run", "--config", str(cfg), "--engine", "ray"])
    assert e.value.code == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "--engine ray" in manifest["command"] and manifest["extra"]["engine"] == "ray"
    assert manifest["extra"]["shuffle"] == "sort"   # one input file (curate.engines.ray.shuffle.strategy)
    # the marker lists everything the driver and the workers left in the folder, so --overwrite may replace it
    out = tmp_path / "out"
    listed = json.loads((out / ".datavet-output").read_text())["entries"]
    assert listed == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if not p.name.startswith(
        ".datavet-output")) and "findings" in listed
    with pytest.raises(SystemExit) as e:
        main(["run", "--config", str(cfg), "--engine", "ray", "--overwrite"])
    assert e.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["run", "--config", str(cfg), "--address", "auto"])
    assert e.value.code == 2
    assert "--engine ray" in capsys.readouterr().err


def _weight(x, depth: int = 3) -> int:
    """Elements of a container, counted through `depth` levels of nested containers (0 for anything else)."""
    import numpy as np

    if isinstance(x, np.ndarray):
        return int(x.size)
    if isinstance(x, dict):
        items = list(x.values())
    elif isinstance(x, list | tuple | set | frozenset):
        items = list(x)
    else:
        return 0
    return len(items) + (sum(_weight(y, depth - 1) for y in items) if depth > 1 else 0)


class _LargestLocal:
    """While active, the largest container held by a local variable of any datavet function the driver's
    thread returns from (`sys.setprofile`: the driver only; Ray workers are other processes)."""

    def __init__(self, root: str):
        self.root, self.largest = root, (0, "")

    def __call__(self, frame, event, arg):
        if event != "return" or not frame.f_code.co_filename.startswith(self.root):
            return
        for name, value in frame.f_locals.items():
            w = _weight(value)
            if w > self.largest[0]:
                self.largest = (w, f"{frame.f_code.co_filename.removeprefix(self.root)}:"
                                   f"{frame.f_code.co_name}:{name}")

    def run(self, fn, *args):
        import sys

        sys.setprofile(self)
        try:
            return fn(*args)
        finally:
            sys.setprofile(None)


def test_driver_state_does_not_grow_with_rows(local_ray, tmp_path, monkeypatch):
    """Row-wise work stays on the workers: on 4x the rows, the largest list, dict or array any driver-side
    datavet function holds (its locals, counted three levels deep) and the result it returns stay the same
    size (counts, distributions over a few labels and lengths, the first `CAP` findings per check, at most
    `length_sample` lengths), with every check on (token_audit and leakage included). A label list, a
    findings list or a dataset gathered on the driver grows 4x and fails this."""
    import curate
    from curate.engines.ray import findings, run_ray_pipeline
    from tests.curate.ray_support import planted_rows

    monkeypatch.setattr(findings, "CAP", 3)
    root = str(Path(curate.__file__).parent) + "/"   # datavet's curate code only, not Ray's own
    got = {}
    for n in (300, 1200):
        # two shards of half the rows each: the probe of the first shard (`load.plan`, which reads it whole)
        # runs as a Ray task, so a shard's size does not show on the driver either
        lines = planted_rows(n)
        src = tmp_path / f"p{n}"
        src.mkdir()
        (src / "part-000.jsonl").write_text("\n".join(lines[: n // 2]) + "\n", encoding="utf-8")
        (src / "part-001.jsonl").write_text("\n".join(lines[n // 2:]) + "\n", encoding="utf-8")
        cfg = _cfg(src, tmp_path / f"ray{n}", tokenizer="minilm", max_length=16, split_field="src",
                   checks={"bias": {"terms": ["alpha"], "length_sample": 100}})
        probe = _LargestLocal(root)
        res = probe.run(run_ray_pipeline, cfg)
        kept = {c.name: len(c.findings) for c in res.report.checks}
        got[n] = (probe.largest, len(res.report.model_dump_json()), kept, res)
    small, big = got[300], got[1200]
    # every row-finding check found more than the cap at both sizes, and kept the cap only
    for name in ("normalization", "length", "exact_duplicate", "conflicting_labels", "leakage"):
        assert small[3].report.checks and small[2][name] == big[2][name] == 3, name
        assert next(c.count for c in big[3].report.checks if c.name == name) > 4 * 3, name
    assert big[3].rows_read == 1200
    print("largest driver container:", small[0], "->", big[0], "; result JSON:", small[1], "->", big[1])
    assert big[0][0] < 1.5 * small[0][0] + 50, f"driver state grew with the rows: {small[0]} -> {big[0]}"
    assert big[1] < 1.5 * small[1], "the driver's result grew with the rows"

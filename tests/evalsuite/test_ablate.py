"""`evalsuite ablate` end to end on tiny data and a tiny BERT: report structure, resume, a clean test set."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from evalsuite.ablate.report import verdict
from evalsuite.ablate.runner import run_ablation, train_config
from evalsuite.ablate.variants import active_steps, curate_config
from evalsuite.bootstrap import paired_bootstrap, paired_bootstrap_seeds
from evalsuite.metrics import metrics_for
from schemas.configs.ablate import AblateConfig
from schemas.configs.base import load_config
from schemas.errors import ConfigError, UsageError
from tests.finetune import conftest as ft

WORDS = ft.WORDS

REPO = Path(__file__).resolve().parents[2]


def _rows(n: int, seed: int) -> list[dict]:
    """Planted sentiment rows with a random tag each (distinct texts), then 30 exact copies under new ids."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lab = rng.choice(sorted(WORDS))
        words = [rng.choice(WORDS[lab]) for _ in range(rng.randint(3, 7))]
        tag = "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
        rows.append(
            {"id": f"r{i}", "text": f"{tag} it was " + " ".join(words) + f" {tag[::-1]}", "label": lab}
        )
    rows += [{**rows[i], "id": f"dup{i}"} for i in rng.sample(range(n), 30)]
    rng.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ft.make_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def _cfg(tmp_path: Path, tiny: Path, **kw) -> AblateConfig:
    data = ft.write_jsonl(tmp_path / "data.jsonl", _rows(260, 0))
    body = {
        "data": str(data),
        "test_size": 80,
        "val_size": 20,
        "seeds": [0, 1],
        "max_steps": 3,
        "steps": ["exact_duplicate"],
        "random_twins": True,
        "n_resamples": 50,
        "out": str(tmp_path / "abl"),
        "curate": {"remove": {"near_duplicates": False}, "disable": ["near_duplicate", "semantic_duplicate"]},
        "train": {"model": str(tiny), "batch_size": 8, "max_length": 32, "optim": {"lr": 1e-3}},
    }
    return AblateConfig.model_validate({**body, **kw})


def _texts(path: Path) -> set[str]:
    return {
        json.loads(line)["text"].lower() for line in path.read_text(encoding="utf-8").splitlines() if line
    }


def test_tiny_ablation_end_to_end_resumes_and_keeps_test_clean(tmp_path: Path, tiny: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _cfg(tmp_path, tiny)
    res = run_ablation(cfg)
    out = Path(cfg.out)
    names = {"raw", "curated", "random_curated", "minus_exact_duplicate", "random_exact_duplicate"}
    assert set(res.predictions) == names
    assert len(res.trained) == 10 and not res.reused
    # progress on stderr, one line per variant x seed start and end
    err = capsys.readouterr().err
    assert err.count("ablate: [") == 20 and "minus_exact_duplicate seed 1" in err

    # the exact-duplicate step removed the planted copies that landed in the training pool
    variants = {v["name"]: v for v in json.loads((out / "result.json").read_text())["variants"]}
    removed = variants["minus_exact_duplicate"]["rows"] - variants["curated"]["rows"]
    assert removed > 0 and variants["curated"]["removed_by_reason"]["exact_duplicate"] == removed
    assert variants["random_exact_duplicate"]["rows"] == variants["curated"]["rows"]
    assert variants["random_curated"]["rows"] == variants["curated"]["rows"]

    # the test set shares no text with any variant's training data (nor with the val set)
    test = _texts(out / "data" / "test.jsonl")
    assert len(test) >= 30
    for name, v in variants.items():
        assert not test & _texts(Path(v["path"])), name
    assert not test & _texts(out / "data" / "val.jsonl")
    heldout = json.loads((out / "manifest.json").read_text())["extra"]["heldout"]
    assert heldout["exact_duplicates_of_training"] > 0  # planted copies fell on both sides and were dropped

    # report structure: the steps summary, every variant, the test-set and method sections, a verdict per step
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["summary"]["columns"][0] == "step" and report["summary"]["rows"][0][0] == "exact_duplicate"
    assert report["summary"]["rows"][0][1] == removed
    assert report["summary"]["rows"][0][3] in ("helped", "hurt", "no measurable effect")
    assert [s["id"] for s in report["sections"]] == ["variants", "test-set", "method", "runs"]
    table = report["sections"][0]["blocks"][0]
    assert [r[0] for r in table["rows"]] == [v for v in variants]
    assert all(0.0 <= r[3] <= 1.0 for r in table["rows"])
    step = res.steps[0]
    assert step["effect"]["base"] == "minus_exact_duplicate" and step["effect"]["variant"] == "curated"
    lo, hi = step["effect"]["ci"]
    assert lo <= step["effect"]["delta"] <= hi
    assert step["vs_random"]["base"] == "random_exact_duplicate"
    assert (out / "report" / "index.html").read_text().count("exact_duplicate") >= 1

    # resume: a second invocation retrains nothing and gives the same predictions
    capsys.readouterr()
    again = run_ablation(cfg)
    assert again.trained == [] and len(again.reused) == 10
    assert "built earlier with the same settings" in capsys.readouterr().err  # no curation redone either
    assert again.predictions == res.predictions
    # an interrupted run (no summary.json) is the only one retrained
    (out / "runs" / "curated" / "seed-1" / "summary.json").unlink()
    third = run_ablation(cfg)
    assert third.trained == ["curated/seed-1"] and len(third.reused) == 9
    # a changed budget is never mistaken for the finished runs of the old one
    with pytest.raises(UsageError, match="other config"):
        run_ablation(cfg.model_copy(update={"max_steps": 4}))


def test_config_rejects_keys_the_ablation_sets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"train\.max_steps is set by the ablation"):
        AblateConfig.model_validate({"data": "x", "train": {"max_steps": 3}})
    with pytest.raises(ValueError, match="unknown step"):
        AblateConfig.model_validate({"data": "x", "steps": ["dedupe"]})
    with pytest.raises(ValueError, match="extra"):
        AblateConfig.model_validate({"data": "x", "sedes": [0]})


def test_steps_switch_off_in_the_curate_config(tmp_path: Path) -> None:
    cfg = AblateConfig.model_validate(
        {"data": "x", "curate": {"mask_pii": True, "remove": {"conflicting_labels": True}}}
    )
    full = curate_config(cfg, tmp_path / "d.jsonl", tmp_path / "o")
    assert active_steps(cfg, full) == [
        "exact_duplicate",
        "near_duplicate",
        "conflicting_labels",
        "mojibake",
        "pii",
    ]
    assert curate_config(cfg, tmp_path / "d.jsonl", tmp_path / "o", "pii").mask_pii is False
    assert (
        curate_config(cfg, tmp_path / "d.jsonl", tmp_path / "o", "mojibake").normalize.fix_mojibake is False
    )
    assert (
        curate_config(cfg, tmp_path / "d.jsonl", tmp_path / "o", "near_duplicate").remove.near_duplicates
        is False
    )
    assert full.remove.near_duplicates is True


def test_verdicts_follow_the_interval() -> None:
    assert verdict((0.01, 0.05)) == "helped"
    assert verdict((-0.05, -0.01)) == "hurt"
    assert verdict((-0.01, 0.02)) == "no measurable effect"


def test_seed_bootstrap_pairs_items_and_averages_seeds() -> None:
    f1 = next(m for m in metrics_for("classification") if m.name == "f1_macro")
    rng = random.Random(0)
    refs = [rng.choice("abc") for _ in range(200)]
    good = [r if rng.random() < 0.9 else "a" for r in refs]
    bad = [r if rng.random() < 0.5 else "a" for r in refs]
    one = paired_bootstrap_seeds(f1, [bad], [good], refs, n_resamples=200)
    ref = paired_bootstrap(f1, bad, good, refs, n_resamples=200)
    assert one.delta == pytest.approx(ref.delta) and one.ci == pytest.approx(ref.ci)
    # the same effect on both seeds: significant, as with one seed
    both = paired_bootstrap_seeds(f1, [bad, bad], [good, good], refs, n_resamples=200)
    assert both.delta == pytest.approx(ref.delta) and both.ci[0] > 0
    # an effect that only one of two seeds shows is training noise as far as two runs can tell: the seeds are
    # resampled too, so the interval reaches 0 (it excluded 0 when only the items were resampled)
    two = paired_bootstrap_seeds(f1, [bad, bad], [good, bad], refs, n_resamples=200)
    assert two.delta == pytest.approx(ref.delta / 2)
    assert two.ci[0] <= 0 < two.ci[1]


def test_seed_bootstrap_widens_with_seed_to_seed_spread() -> None:
    f1 = next(m for m in metrics_for("classification") if m.name == "f1_macro")
    rng = random.Random(1)
    refs = [rng.choice("abc") for _ in range(300)]

    def noisy(p_right: float) -> list[str]:
        return [r if rng.random() < p_right else rng.choice("abc") for r in refs]

    base = [noisy(0.7) for _ in range(3)]
    steady = paired_bootstrap_seeds(f1, base, [noisy(0.75) for _ in range(3)], refs, n_resamples=300)
    spread = paired_bootstrap_seeds(f1, base, [noisy(0.6), noisy(0.75), noisy(0.9)], refs, n_resamples=300)
    width = lambda d: d.ci[1] - d.ci[0]  # noqa: E731
    assert width(spread) > 1.5 * width(steady)
    with pytest.raises(ValueError):
        paired_bootstrap_seeds(f1, base, base[:2], refs)


def test_shipped_ablate_configs_load() -> None:
    paths = sorted((REPO / "configs" / "ablate").glob("*.yaml"))
    assert {p.name for p in paths} >= {"tweets.yaml"}
    for p in paths:
        cfg = load_config(AblateConfig, p, ["max_steps=5"])
        assert cfg.max_steps == 5 and cfg.data
        # the nested curate and train sections are validated too, with the keys the ablation sets
        assert curate_config(cfg, Path("in.jsonl"), Path("o")).input.path == "in.jsonl"
        tcfg = train_config(cfg, Path("t.jsonl"), Path("v.jsonl"), Path("o"), 1)
        assert (tcfg.max_steps, tcfg.seed, tcfg.early_stopping.patience) == (5, 1, None)


def test_bad_override_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(AblateConfig, REPO / "configs" / "ablate" / "tweets.yaml", ["seeds=nope"])


def test_cli_bad_config_exits_2_with_a_message(tmp_path: Path, run_main) -> None:
    from evalsuite.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("data: x\ntrain: {max_steps: 3}\n")
    assert run_main(main, ["ablate", str(bad)]) == 2
    assert run_main(main, ["ablate", str(tmp_path / "missing.yaml")]) == 2
    assert run_main(main, ["ablate", "--config", str(bad)]) == 2
    assert run_main(main, ["ablate"]) == 2  # no config at all: a message, not a traceback

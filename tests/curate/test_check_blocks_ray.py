"""Report blocks from the Ray engine's results: each check draws the same blocks from them, read back from
checks.json, as from the local engine's, and the Ray run's own report carries them where the local one does.
"""

from __future__ import annotations

import pytest

from curate.pipeline import run_pipeline
from curate.report import check_view
from schemas.configs.curate import CurateConfig
from schemas.report import Report
from schemas.results import CheckReport
from tests.curate.ray_support import write_planted

pytest.importorskip("ray")

from tests.curate.test_ray_engine import CONF

pytestmark = pytest.mark.usefixtures("local_ray")


def _checks(out) -> CheckReport:
    return CheckReport.model_validate_json((out / "checks.json").read_text(encoding="utf-8"))


def test_ray_results_draw_the_local_engines_blocks(tmp_path):
    from curate.engines.ray import run_ray_pipeline

    src = write_planted(tmp_path / "planted.jsonl", 400)[0]
    for name, run in (("local", run_pipeline), ("ray", run_ray_pipeline)):
        run(CurateConfig.model_validate({**CONF, "input": {"path": str(src)}, "out": str(tmp_path / name)}))
    local, ray = _checks(tmp_path / "local").checks, _checks(tmp_path / "ray").checks
    assert [c.name for c in local] == [c.name for c in ray]
    sections = {s.id: s for s in Report.model_validate_json(
        (tmp_path / "ray" / "report.json").read_text(encoding="utf-8")).sections}
    drawn = set()
    for a, b in zip(local, ray, strict=True):
        blocks = check_view(b.name).report_blocks(b)
        assert blocks == check_view(a.name).report_blocks(a), b.name
        start = 2 if b.message else 1       # after the description and the message
        assert sections[b.name].blocks[start:start + len(blocks)] == blocks, b.name
        drawn |= {b.name} if blocks else set()
    assert {"class_balance", "length", "exact_duplicate", "near_duplicate", "bias"} <= drawn

"""The one renderer for data-QA and evaluation reports: `schemas.report.Report` -> HTML, markdown, JSON.

`write_report(report, out_dir)` writes `index.html` (self-contained: inline CSS, JS and SVG; opens offline),
`report.md` (summary first, for pull requests) and `report.json` (the Report itself, re-loadable with
`Report.model_validate_json`). All data text is escaped.
"""

from __future__ import annotations

from pathlib import Path

from common.render.html import render_html
from common.render.markdown import render_markdown
from schemas.report import Report

__all__ = ["render_html", "render_markdown", "write_report"]


def write_report(report: Report, out_dir: str | Path) -> dict[str, Path]:
    """Write `index.html`, `report.md` and `report.json` into `out_dir` (created if missing).

    Args:
        report: The report to write.
        out_dir: Folder to write into.

    Returns:
        {"html": path, "markdown": path, "json": path}.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "index.html", "markdown": out / "report.md", "json": out / "report.json"}
    paths["html"].write_text(render_html(report), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report), encoding="utf-8")
    paths["json"].write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return paths

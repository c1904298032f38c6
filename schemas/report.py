"""A report as data. curate (QA) and evalsuite (evaluation) build a `Report`; `common.render` is the one
renderer that turns it into self-contained HTML and markdown. Text in any block is data: the renderer escapes
it, so a `<script>` in a dataset row is shown, never run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    caption: str | None = None


class TextBlock(_Block):
    kind: Literal["text"] = "text"
    text: str                      # plain text; paragraphs split on blank lines


class KeyValueBlock(_Block):
    kind: Literal["kv"] = "kv"
    items: dict[str, Any]


class TableBlock(_Block):
    kind: Literal["table"] = "table"
    columns: list[str]
    rows: list[list[Any]]
    page_size: int | None = Field(25, description="Paginate in HTML when there are more rows than this")
    status_column: str | None = Field(None, description="Column whose pass/warn/fail values get colored")


class ChartBlock(_Block):
    """A chart drawn as inline SVG. `bar`/`histogram`: x = category labels or bin edges,
    series = {name: values};
    `line`: x = steps, series = {name: values}; `heatmap`: x = column labels, y = row labels, matrix."""

    kind: Literal["chart"] = "chart"
    chart: Literal["bar", "histogram", "line", "heatmap"]
    x: list[Any] = Field(default_factory=list)
    y: list[Any] = Field(default_factory=list)
    series: dict[str, list[float | None]] = Field(default_factory=dict)
    matrix: list[list[float]] | None = None
    x_label: str | None = None
    y_label: str | None = None


Block = Annotated[TextBlock | KeyValueBlock | TableBlock | ChartBlock, Field(discriminator="kind")]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    status: str | None = None      # pass / warn / fail / error / not_run / improved / regressed ...
    blocks: list[Block] = Field(default_factory=list)


class Verdict(BaseModel):
    """What the report concludes, shown first (a banner above everything else).

    `status` uses the shared check vocabulary; `outcome` is the report's own word for it (e.g. improved,
    regressed, inconclusive, not comparable, gate failed); `reasons` name the evidence and the limits.
    """

    model_config = ConfigDict(extra="forbid")
    status: Literal["pass", "warn", "fail", "error", "not_run", "not_applicable"]
    outcome: str
    headline: str
    reasons: list[str] = Field(default_factory=list)


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    subtitle: str | None = None
    verdict: Verdict | None = None                   # shown before anything else
    kind: Literal["qa", "eval", "cv", "index"] = "qa"
    summary: TableBlock | None = None                # shown first
    sections: list[Section] = Field(default_factory=list)
    signatures: dict[str, str] = Field(default_factory=dict)
    manifest: dict[str, Any] | None = None
    links: dict[str, str] = Field(default_factory=dict)   # label -> relative path (index pages)

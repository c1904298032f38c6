"""Report -> one self-contained HTML page: inline CSS, inline JS (table pagination only), inline SVG charts.

jinja2 runs with autoescape on, and the SVG and block fragments are built with `markupsafe.escape` on every
data string, so text from a dataset is displayed, never executed. Links are limited to relative paths and
http(s) URLs so a `javascript:` href cannot sneak in.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from common.render.svg import chart_svg, fmt
from schemas.report import ChartBlock, KeyValueBlock, Report, TableBlock, TextBlock

_STATUS_RE = re.compile(r"[^a-z0-9_-]+")
LONG_CELL = 80  # cells longer than this keep their line breaks and wrap


def status_class(value: Any) -> str:
    """A CSS-safe class suffix for a status value ("pass", "regressed", ...)."""
    return _STATUS_RE.sub("-", str(value).strip().lower())[:32] or "none"


# What a browser drops from a URL before it reads the scheme: ASCII tab/newline/CR anywhere, C0 controls and
# spaces at either end (WHATWG URL parsing). `java\nscript:` is `javascript:` to a browser.
_URL_DROP = re.compile(r"[\t\n\r]")
_URL_STRIP = "".join(map(chr, range(0x21)))


def safe_href(href: str) -> str:
    """`href` when it is a relative link or an http(s) URL, else "#".

    The check runs on what a browser would see: HTML entities decoded (a markdown renderer decodes them
    in link targets), then control characters and whitespace removed; that normalized form is returned.
    Protocol-relative links (`//host`, `\\host`) are remote, so they are refused too.
    """
    import html as _html

    h = _URL_DROP.sub("", _html.unescape(str(href))).strip(_URL_STRIP)
    if h.startswith(("//", "\\\\", "/\\", "\\/")):
        return "#"
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", h)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return "#"
    if not scheme and ":" in h.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return "#"  # something a browser might still read as a scheme; a relative path's first part has none
    return h


def _cell(v: Any, status: bool) -> Markup:
    if status and v is not None:
        return Markup(f'<td><span class="badge s-{status_class(v)}">{escape(str(v))}</span></td>')
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Markup(f'<td class="num">{escape(fmt(v))}</td>')
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False, default=str)
    text = fmt(v)
    if len(text) > LONG_CELL or "\n" in text:
        return Markup(f'<td><div class="long">{escape(text)}</div></td>')
    return Markup(f"<td>{escape(text)}</td>")


def table_html(b: TableBlock) -> Markup:
    status_idx = b.columns.index(b.status_column) if b.status_column in b.columns else -1
    head = "".join(f"<th>{escape(c)}</th>" for c in b.columns)
    body = []
    for row in b.rows:
        body.append("<tr>" + "".join(_cell(v, i == status_idx) for i, v in enumerate(row)) + "</tr>")
    size = f' data-page-size="{int(b.page_size)}"' if b.page_size and len(b.rows) > b.page_size else ""
    empty = "" if b.rows else f'<tr><td colspan="{max(len(b.columns), 1)}" class="caption">no rows</td></tr>'
    return Markup(f'<div class="tablewrap"><table{size}><thead><tr>{head}</tr></thead><tbody>'
                  + "".join(body) + empty + "</tbody></table></div>")


def kv_html(b: KeyValueBlock) -> Markup:
    items = []
    for k, v in b.items.items():
        if isinstance(v, (dict, list)):
            v = json.dumps(v, ensure_ascii=False, default=str)
        items.append(f"<dt>{escape(str(k))}</dt><dd>{escape(fmt(v))}</dd>")
    return Markup('<dl class="kv">' + "".join(items) + "</dl>")


def text_html(b: TextBlock) -> Markup:
    paras = [p.strip() for p in re.split(r"\n\s*\n", b.text) if p.strip()]
    return Markup("".join(f"<p>{escape(p)}</p>" for p in paras))


def block_html(b: Any, anchor: str = "") -> Markup:
    """One block with its title and caption, escaped."""
    title = f"<h3>{escape(b.title)}</h3>" if b.title and not isinstance(b, ChartBlock) else ""
    cap = f'<p class="caption">{escape(b.caption)}</p>' if b.caption else ""
    if isinstance(b, TableBlock):
        inner = table_html(b)
    elif isinstance(b, KeyValueBlock):
        inner = kv_html(b)
    elif isinstance(b, TextBlock):
        inner = text_html(b)
    elif isinstance(b, ChartBlock):
        fig_title = f"<figcaption>{escape(b.title)}</figcaption>" if b.title else ""
        return Markup(f'<figure class="chart" id="{escape(anchor)}">{fig_title}{chart_svg(b)}{cap}</figure>')
    else:  # pragma: no cover - the Block union is closed
        inner = Markup(f"<pre>{escape(repr(b))}</pre>")
    return Markup(f'<div class="block" id="{escape(anchor)}">{title}{cap}{inner}</div>')


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("common.render", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["statusclass"] = status_class
    env.filters["safe_href"] = safe_href
    return env.get_template("report.html.j2")


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML page (no external requests).

    Args:
        report: The report to render.

    Returns:
        The HTML document as a string.
    """
    from common.cli import version_string

    manifest_json = (
        json.dumps(report.manifest, indent=2, ensure_ascii=False, default=str) if report.manifest else ""
    )
    summary_block = report.summary.model_copy(update={"title": None}) if report.summary else None
    return _template().render(report=report, block_html=block_html, manifest_json=manifest_json,
                              summary_block=summary_block,
                              version=version_string("evalsuite").split()[-1])

"""Issue 9 item 11 without a browser: the link filter normalises before it reads the scheme, and markdown
from the data stays text in report.md (the Chromium checks are in test_report_browser.py)."""

from __future__ import annotations

import re

import pytest

from common.render.html import safe_href
from common.render.markdown import md_escape, render_markdown
from schemas.report import Report, Section, TextBlock, Verdict


@pytest.mark.parametrize(
    "href",
    [
        "java\nscript:alert(1)",
        "java\tscript:alert(1)",
        " \x01javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "javascript&#58;alert(1)",
        "java&#x0A;script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//evil.example/x",
        "\\\\evil.example\\x",
        "file:///etc/passwd",
    ],
)
def test_link_filter_refuses_everything_but_relative_and_http(href):
    assert safe_href(href) == "#"


@pytest.mark.parametrize("href", ["qa/index.html", "../x/index.html", "#summary", "http://example.org/a",
                                  "HTTPS://example.org/a?b=c", "my report/index.html"])
def test_link_filter_keeps_relative_and_http_links(href):
    assert safe_href(href) == href


def test_markdown_from_the_data_is_escaped():
    payload = "![t](http://evil.example/p.png) [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    cell = md_escape(payload)
    assert not re.search(r"(?<!\\)[\[\]]", cell), cell  # every bracket escaped: no link or image can form
    assert "<img" not in cell
    md = render_markdown(
        Report(
            title=payload,
            verdict=Verdict(status="fail", outcome="gate failed", headline=payload, reasons=[payload]),
            sections=[
                Section(
                    id="s",
                    title=payload,
                    blocks=[TextBlock(text=f"{payload}\n- not a list\n# not a heading")],
                )
            ],
            links={"bad": "java\nscript:alert(1)", "ok": "a b/index.html"},
            manifest={"x": "```\n<script>"},
        )
    )
    assert (
        not re.search(r"(?<!\\)\]\(http://evil", md)
        and "<img" not in md
        and "<script>" not in md.split("````json")[0]
    )
    assert "- [bad](#)" in md and "- [ok](a%20b/index.html)" in md
    assert "\n\\- not a list" in md and "\n\\# not a heading" in md
    assert "````json" in md  # a fence longer than the data's backtick run

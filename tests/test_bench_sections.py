"""bench.sections.write_section: replaces one section of BENCHMARKS.md and nothing else."""

from __future__ import annotations

from bench.sections import write_section


def test_only_the_named_section_changes(tmp_path, capsys) -> None:
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# B\n<!-- section:a -->\nold a\n<!-- /section:a -->\nkeep\n<!-- section:b -->\nold b\n"
                  "<!-- /section:b -->\n", encoding="utf-8")
    assert write_section("a", "| new | table |\n", md)
    assert md.read_text() == ("# B\n<!-- section:a -->\n| new | table |\n<!-- /section:a -->\nkeep\n"
                              "<!-- section:b -->\nold b\n<!-- /section:b -->\n")
    before = md.read_text()
    assert not write_section("missing", "x", md)
    assert md.read_text() == before and "no <!-- section:missing --> markers" in capsys.readouterr().out

"""The duplicate key: what two texts must share to count as duplicates (exact, near, split grouping).

By default only whitespace is folded (line breaks, tabs and runs of spaces are one space), so copies that
differ only in line breaks are exact duplicates. For social text, URLs (t.co links differ per post),
@mentions, numbers and punctuation can be masked too; `case` folds case.
"""

from __future__ import annotations

from pydantic import Field

from schemas.configs.base import StrictModel

KEY_PARTS = ("whitespace", "urls", "mentions", "numbers", "punctuation", "case")
PRESETS = {"none": (), "default": ("whitespace",),
           "social": ("whitespace", "urls", "mentions", "numbers", "punctuation")}


class DedupKeyConfig(StrictModel):
    """Which differences the duplicate key ignores."""

    whitespace: bool = Field(True, description="Fold all whitespace, line breaks included, to one space")
    urls: bool = Field(False, description="Mask URLs (http(s)://..., www....) as <url>")
    mentions: bool = Field(False, description="Mask @mentions as @user")
    numbers: bool = Field(False, description="Mask numbers as 0")
    punctuation: bool = Field(
        False, description="Drop punctuation (Unicode P*, and ASCII symbols such as $ | ~)"
    )
    case: bool = Field(False, description="Fold case")

    @classmethod
    def from_spec(cls, spec: str) -> DedupKeyConfig:
        """`"social"`, `"none"`, `"default"` or a comma list of KEY_PARTS, e.g.
        `"whitespace,urls,mentions"`."""
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        on: set[str] = set()
        for p in parts:
            if p in PRESETS:
                on |= set(PRESETS[p])
            elif p in KEY_PARTS:
                on.add(p)
            else:
                raise ValueError(f"unknown duplicate-key part {p!r}: use {', '.join(KEY_PARTS)} or a preset "
                                 f"({', '.join(PRESETS)})")
        return cls(**{k: k in on for k in KEY_PARTS})

    def spec(self) -> str:
        """The comma list of what this key ignores ("none" when nothing)."""
        return ",".join(k for k in KEY_PARTS if getattr(self, k)) or "none"

    @property
    def identity(self) -> bool:
        return not any(getattr(self, k) for k in KEY_PARTS)

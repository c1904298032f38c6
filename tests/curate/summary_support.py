"""Shared by the report-block tests: a check's summary holds exactly the keys its summary TypedDict names."""

from __future__ import annotations

import typing


def declared_keys(declared: type) -> tuple[set[str], set[str]]:
    """(required, optional) keys of a summary TypedDict; its `NotRequired[...]` keys are the optional ones."""
    hints = typing.get_type_hints(declared, include_extras=True)
    optional = {k for k, t in hints.items() if typing.get_origin(t) is typing.NotRequired}
    return set(hints) - optional, optional


def assert_declared(summary: dict, declared: type) -> None:
    """Every required key of `declared` is in `summary`, and `summary` has no key `declared` leaves out."""
    required, optional = declared_keys(declared)
    assert required <= set(summary), f"{declared.__name__} keys not written: {required - set(summary)}"
    assert set(summary) <= required | optional, (
        f"keys {declared.__name__} does not declare: {set(summary) - required - optional}"
    )

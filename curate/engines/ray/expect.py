"""`expectations` on Ray for row-wise expectations: the suite validated by great-expectations batch by batch,
the results merged on the driver into the local check's result.

Row-wise (`ROW_WISE`): expectations whose verdict on a row depends on that row alone (null, set membership,
range, regex, value length), on a column whose type does not depend on other rows: the record fields
(`id`, the text fields, `label`, `group`, `n_chars`, and the input's own names of mapped fields). A metadata
column is not row-wise: the local check turns it numeric only when every value of the whole column parses
as a number. Every other expectation (uniqueness, distributions, means, row counts, types, orderings) needs
the whole column and stays refused, named in the error, with `--engine local` as the fix.

Each batch is validated with GX's COMPLETE result (as `ExpectationsCheck.run` does) and returns counts and
its failing rows; the driver adds the counts up as the batches stream in and applies GX's own success rule
(`mostly` over non-null values; over all values for the null expectations) and percentages, so every count,
status and finding equals the local result (findings in row order, at most `MAX_FINDINGS_PER_EXPECTATION`
per expectation). The driver keeps, per expectation, running sums and the failing rows of the first batches
in row order, trimmed to that cap as they arrive: its memory is bounded by the local check's own cap, not
by the rows or the batches.
"""

from __future__ import annotations

import json
from typing import Any

ROW_WISE = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex", "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
})
# GX judges these over every value (a null is the point); the others over non-null values only
_OVER_ALL = frozenset({"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"})
_FIELDS = {"classification": ("text", "label"), "completion": ("prompt", "completion"), "chat": ("messages",),
           "text": ("text",)}


def not_row_wise(specs: list[Any], kind: str, mapping: dict[str, str]) -> list[str]:
    """The specs this engine cannot run per batch, each as `type(column)`."""
    columns = {"id", "group", "n_chars", *_FIELDS.get(kind, ())}
    columns |= {c for f, c in mapping.items() if isinstance(c, str) and f in columns}
    return [f"{s.gx_type}({s.kwargs.get('column')})" for s in specs
            if s.gx_type not in ROW_WISE or s.kwargs.get("column") not in columns]


def _validate(batch: Any, kind: str, mapping: dict[str, str], specs: list[dict]) -> dict[str, list]:
    """Ray task: GX on one batch of normalized rows (pos, rec, text); per spec its counts and failing rows."""
    import logging
    import os

    from curate.checks.base import CheckContext
    from curate.checks.expectations import (
        MAX_FINDINGS_PER_EXPECTATION,
        ExpectationSpec,
        _class_name,
        _exception_message,
        records_frame,
    )
    from curate.io.load import LoadedData
    from schemas.records import RecordKind

    batch = batch.sort_values("pos", kind="stable")   # a batch's failing rows in row order
    recs = [json.loads(x) for x in batch["rec"].tolist()]
    data = LoadedData(RecordKind(kind), recs, [], None, None, mapping)  # type: ignore[arg-type]
    df = records_frame(CheckContext(data=data, texts=batch["text"].tolist()))
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    gb = (context.data_sources.add_pandas("datavet").add_dataframe_asset("records")
          .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": df}))
    suite = gx.ExpectationSuite(name="datavet")
    parsed = [ExpectationSpec.model_validate(s) for s in specs]
    for i, spec in enumerate(parsed):
        suite.add_expectation(getattr(gx.expectations, _class_name(spec.gx_type))(
            **spec.kwargs, meta={"datavet_index": i}))
    res = gb.validate(suite, result_format={"result_format": "COMPLETE",
                                            "unexpected_index_column_names": ["id"]})
    ordered = sorted(res.results, key=lambda r: (r.expectation_config.meta or {}).get("datavet_index", 0))
    where = {str(rid): p for rid, p in zip(batch["id"].tolist(), batch["pos"].tolist(), strict=True)}
    out = []
    for spec, r in zip(parsed, ordered, strict=True):
        column = spec.kwargs.get("column")
        rows = []
        for item in (r.result.get("unexpected_index_list") or [])[:MAX_FINDINGS_PER_EXPECTATION]:
            rid = item.get("id") if isinstance(item, dict) else item
            value = item.get(column) if isinstance(item, dict) and column else None
            rows.append([where[str(rid)], str(rid), None if value is None else repr(value)[:200]])
        out.append({"error": _exception_message(r.exception_info), "n": r.result.get("element_count"),
                    "missing": r.result.get("missing_count"), "unexpected": r.result.get("unexpected_count"),
                    "observed": r.result.get("observed_value"), "rows": rows})
    return {"pos": [int(batch["pos"].min())], "s": [json.dumps(out, default=str)]}


def expectations_result(check: Any, rows: Any, kind: str, mapping: dict[str, str]):
    """`ExpectationsCheck.run` for a row-wise suite (`not_row_wise` is empty), from per-batch GX results."""
    from curate.checks.expectations import MAX_FINDINGS_PER_EXPECTATION
    from schemas.findings import CheckStatus, Finding

    specs = check.specs
    parts = rows.select_columns(["pos", "id", "rec", "text"]).map_batches(
        _validate, batch_format="pandas", batch_size=4096,
        fn_kwargs={"kind": kind, "mapping": mapping, "specs": [s.model_dump(mode="json") for s in specs]},
    )
    merged = [Merged() for _ in specs]
    for part in parts.iter_rows():
        for m, g in zip(merged, json.loads(part["s"]), strict=True):
            m.add(int(part["pos"]), g, MAX_FINDINGS_PER_EXPECTATION)
    findings, per, problems = [], [], []
    for i, spec in enumerate(specs):
        m = merged[i]
        column = spec.kwargs.get("column")
        error, total, unexpected = m.error[1] if m.error else None, m.n, m.unexpected
        mostly = spec.kwargs.get("mostly", 1.0)
        if spec.gx_type in _OVER_ALL:
            considered = total
            success = True if not total else (total - (unexpected or 0)) / total >= mostly
        else:
            considered = total - m.missing
            success = (True if unexpected is None or not total or not considered
                       else (float(considered) - float(unexpected)) / float(considered) >= mostly)
        percent = None
        if unexpected is not None and total > 0 and considered > 0:
            percent = unexpected / considered * 100
        entry = {"expectation": spec.gx_type, "column": column, "success": bool(success),
                 "unexpected_count": unexpected, "unexpected_percent": percent,
                 "observed_value": m.first[1] if m.first else None}
        if error:
            entry["error"] = error
            where = f"{spec.gx_type}" + (f"({column})" if column else "")
            problems.append(f"{where} could not run: {error}")
        per.append(entry)
        if success:
            continue
        failing = [(rid, msg) for _, rid, msg in m.head]
        reason = spec.gx_type.removeprefix("expect_")
        findings += [Finding(id=rid, reason=reason, severity=spec.severity, expectation=spec.gx_type,
                             column=column, message=msg) for rid, msg in failing]
        if not failing and not error:
            problems.append(f"{spec.gx_type}" + (f"({column})" if column else "") + " failed: observed "
                            f"{entry['observed_value']!r}")
    status = CheckStatus.fail if problems and not findings else None
    failed = [e for e in per if not e["success"]]
    return check.result(findings, status=status, message="; ".join(problems) or None, summary={
        "evaluated": len(per), "successful": len(per) - len(failed), "failed": failed, "results": per})


class Merged:
    """One expectation's batch results merged as they arrive (in any order): sums, the first batch's observed
    value and error, and the first `cap` failing rows by position (each batch sends its first `cap`)."""

    def __init__(self) -> None:
        self.n = self.missing = 0
        self.unexpected: int | None = 0       # None once a batch has no unexpected count
        self.first: tuple | None = None       # (batch pos, observed value) of the first batch
        self.error: tuple | None = None       # (batch pos, message) of the first batch with an error
        self.head: list[tuple] = []           # (pos, id, message) of the first failing rows, row order

    def add(self, pos: int, g: dict, cap: int) -> None:
        import heapq

        self.n += g["n"] or 0
        self.missing += g["missing"] or 0
        self.unexpected = None if self.unexpected is None or g["unexpected"] is None else (
            self.unexpected + g["unexpected"])
        if self.first is None or pos < self.first[0]:
            self.first = (pos, g["observed"])
        if g["error"] and (self.error is None or pos < self.error[0]):
            self.error = (pos, g["error"])
        if g["rows"]:
            self.head = heapq.nsmallest(cap, [*self.head, *(tuple(r) for r in g["rows"])])

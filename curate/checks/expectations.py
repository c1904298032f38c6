"""`expectations`: a great-expectations 1.x suite declared in YAML, run as one check.

Each failing expectation becomes one finding per failing row (`reason` = the expectation type without its
`expect_` prefix, e.g. `column_values_to_not_be_null`; `expectation` and `column` keys say which), taken from
GX's COMPLETE result format (`unexpected_index_list`, keyed by the row id column). Expectations that fail
without row indexes (table-level ones such as row counts) are reported in `summary.failed` and `message`.

The suite file (`configs/expectations/tweets.yaml` is an example):

```yaml
name: tweets
expectations:
  - type: expect_column_values_to_not_be_null     # any GX expectation, `expect_` prefix optional
    column: text
  - type: column_values_to_be_in_set
    column: label
    value_set: [negative, neutral, positive]
    severity: error                               # finding severity (default warning)
```

Columns are the record fields (`id`, `text`/`label`, `prompt`/`completion`, `messages` as text, `group`), each
metadata key not clashing with them, `n_chars` (length of the judged text), and the input file's own names
of the mapped fields (a suite may say `review` for the column loaded as `text`). No thresholds of its own:
the suite is the user's. GX is imported inside `run` (it takes seconds to import) with progress bars off.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field

from curate.checks.base import Check, CheckContext
from schemas.errors import ConfigError
from schemas.findings import CheckResult, CheckStatus, Finding, Severity
from schemas.records import message_text
from schemas.report import Block, TableBlock

MAX_FINDINGS_PER_EXPECTATION = 10_000


class ExpectationSpec(BaseModel):
    """One expectation: its GX type (snake_case) and its keyword arguments."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    severity: Severity = Severity.warning

    @property
    def gx_type(self) -> str:
        return self.type if self.type.startswith("expect_") else f"expect_{self.type}"

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ExpectationOutcome(TypedDict):
    """One expectation's result as GX gave it; `error` when it could not run."""

    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: Any
    error: NotRequired[str]


class ExpectationsSummary(TypedDict):
    """The summary of an `expectations` result: every expectation in suite order, and the failed ones."""

    evaluated: int
    successful: int
    failed: list[ExpectationOutcome]
    results: list[ExpectationOutcome]


class ExpectationsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suite: str | None = Field(None, description="Path of a suite YAML (name + expectations)")
    expectations: list[ExpectationSpec] = Field(default_factory=list, description="Inline expectations")


def _class_name(gx_type: str) -> str:
    return "".join(part.capitalize() for part in gx_type.split("_"))


def load_suite(path: str | Path) -> list[ExpectationSpec]:
    """Read and validate a suite YAML. Raises ConfigError naming every bad entry."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"expectations suite {p} does not exist",
                          fix="pass the path of a suite YAML (see configs/expectations/tweets.yaml)")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(
            f"{p} is not valid YAML: {e}", fix="fix the YAML syntax at the position shown"
        ) from None
    items = raw.get("expectations") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ConfigError(
            f"{p} has no `expectations:` list",
            fix="write `expectations:` followed by a list of "
            "entries with a `type:` (see configs/expectations/tweets.yaml)",
        )
    return validate_specs(items, str(p))


def validate_specs(items: list[Any], source: str) -> list[ExpectationSpec]:
    """Turn raw entries into specs, checking each names an expectation GX 1.x knows."""
    from pydantic import ValidationError

    from schemas.configs.base import format_validation_error

    specs, problems = [], []
    known = known_expectations()
    for i, item in enumerate(items):
        try:
            spec = item if isinstance(item, ExpectationSpec) else ExpectationSpec.model_validate(item)
        except ValidationError as e:
            problems.extend(f"expectations[{i}]: {d}" for d in format_validation_error(e, source).details)
            continue
        if known is not None and _class_name(spec.gx_type) not in known:
            close = [k for k in known if spec.gx_type.replace("expect_", "")[:12] in _snake(k)][:3]
            problems.append(f"expectations[{i}]: unknown expectation {spec.gx_type!r}"
                            + (f" (did you mean {', '.join(_snake(c) for c in close)}?)" if close else ""))
            continue
        specs.append(spec)
    if problems:
        raise ConfigError(
            f"{source}: {len(problems)} bad expectation{'s' * (len(problems) != 1)}",
            details=problems,
            fix="use great-expectations 1.x expectation names in snake_case, e.g. "
            "expect_column_values_to_not_be_null, with their arguments as keys",
        )
    return specs


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def known_expectations() -> set[str] | None:
    """Class names of the core GX expectations, read from the installed package's file names (no import)."""
    import importlib.util

    spec = importlib.util.find_spec("great_expectations")
    if spec is None or not spec.submodule_search_locations:
        return None
    core = Path(next(iter(spec.submodule_search_locations))) / "expectations" / "core"
    return {_class_name(f.stem) for f in core.glob("expect_*.py")}


def records_frame(ctx: CheckContext):
    """The records as a pandas DataFrame with one column per record field and metadata key."""
    import pandas as pd

    aliases = {f: c for f, c in (ctx.data.field_map or {}).items() if isinstance(c, str) and c != f}
    rows = []
    for r, text in zip(ctx.data.records, ctx.texts, strict=True):
        row = {k: v for k, v in (r.get("metadata") or {}).items() if not isinstance(v, dict | list)}
        for k, v in r.items():
            if k == "metadata":
                continue
            if k == "messages":
                v = "\n".join(f"{m['role']}: {message_text(m)}" for m in v)
            elif isinstance(v, list):
                v = "|".join(map(str, v))
            row[k] = v
        row["n_chars"] = len(text)
        # the file's own column names work too: a suite written against the input ("review") need not
        # know that datavet calls that column "text"
        for field, column in aliases.items():
            if field in row:
                row.setdefault(column, row[field])
        rows.append(row)
    df = pd.DataFrame(rows)
    # CSV metadata arrives as strings; a column whose every value parses as a number becomes numeric so
    # range expectations work on it.
    meta_cols = {k for r in ctx.data.records for k in (r.get("metadata") or {})}
    for col in meta_cols & set(df.columns):
        if df[col].dtype != object and not pd.api.types.is_string_dtype(df[col]):
            continue
        with contextlib.suppress(ValueError, TypeError):
            df[col] = pd.to_numeric(df[col])
    return df


def _exception_message(info: Any) -> str | None:
    """GX puts `raised_exception` at the top level, or nests it per metric; return the first message."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return (info.get("exception_message") or "exception") if info["raised_exception"] else None
    for v in info.values():
        msg = _exception_message(v)
        if msg:
            return msg
    return None


class ExpectationsCheck(Check):
    name = "expectations"
    description = "a great-expectations suite declared in YAML; failing rows become findings"
    Params = ExpectationsParams

    def __init__(self, params: BaseModel | dict[str, Any] | None = None):
        super().__init__(params)
        # Validate the suite now, when the checks are built, so a bad suite is a config error (exit 2).
        p: ExpectationsParams = self.params
        self.specs = (load_suite(p.suite) if p.suite else []) + (
            validate_specs(p.expectations, "checks.expectations.expectations") if p.expectations else [])

    def run(self, ctx: CheckContext) -> CheckResult:
        if not self.specs:
            return self.result(
                [],
                status=CheckStatus.skipped,
                message="no suite: set `expectations:` in the config or checks.expectations.suite",
            )
        df = records_frame(ctx)
        missing = sorted({s.kwargs["column"] for s in self.specs if "column" in s.kwargs} - set(df.columns))
        if missing:
            raise ConfigError(f"the suite names column(s) {missing} the data does not have",
                              fix=f"use one of the columns {sorted(df.columns)}")
        import logging
        import os

        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch = (context.data_sources.add_pandas("datavet").add_dataframe_asset("records")
                 .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": df}))
        suite = gx.ExpectationSuite(name="datavet")
        for i, spec in enumerate(self.specs):
            suite.add_expectation(getattr(gx.expectations, _class_name(spec.gx_type))(
                **spec.kwargs, meta={"datavet_index": i}))
        res = batch.validate(suite, result_format={"result_format": "COMPLETE",
                                                   "unexpected_index_column_names": ["id"]})
        findings: list[Finding] = []
        per: list[ExpectationOutcome] = []
        problems: list[str] = []
        # GX does not keep suite order in its results: match them back to our specs by the index in `meta`.
        ordered = sorted(res.results, key=lambda r: (r.expectation_config.meta or {}).get("datavet_index", 0))
        for spec, r in zip(self.specs, ordered, strict=True):
            column = spec.kwargs.get("column")
            reason = spec.gx_type.removeprefix("expect_")
            error = _exception_message(r.exception_info)
            entry: ExpectationOutcome = {
                "expectation": spec.gx_type,
                "column": column,
                "success": bool(r.success),
                "unexpected_count": r.result.get("unexpected_count"),
                "unexpected_percent": r.result.get("unexpected_percent"),
                "observed_value": r.result.get("observed_value"),
            }
            if error:
                entry["error"] = error
                problems.append(
                    f"{spec.gx_type}" + (f"({column})" if column else "") + f" could not run: {error}"
                )
            per.append(entry)
            if r.success:
                continue
            idx = r.result.get("unexpected_index_list") or []
            for item in idx[:MAX_FINDINGS_PER_EXPECTATION]:
                rid = item.get("id") if isinstance(item, dict) else item
                value = item.get(column) if isinstance(item, dict) and column else None
                findings.append(
                    Finding(
                        id=str(rid),
                        reason=reason,
                        severity=spec.severity,
                        expectation=spec.gx_type,
                        column=column,
                        message=None if value is None else repr(value)[:200],
                    )
                )
            if not idx and not error:
                problems.append(f"{spec.gx_type}" + (f"({column})" if column else "") + " failed: observed "
                                f"{entry['observed_value']!r}")
        status = None
        if problems and not findings:
            status = CheckStatus.fail
        failed = [e for e in per if not e["success"]]
        summary: ExpectationsSummary = {"evaluated": len(per), "successful": len(per) - len(failed),
                                         "failed": failed, "results": per}
        return self.result(findings, status=status, message="; ".join(problems) or None, summary=summary)

    @classmethod
    def report_blocks(cls, result: CheckResult) -> list[Block]:
        """One row per expectation, in suite order, with its pass/fail and unexpected rows."""
        results = cast(ExpectationsSummary, result.summary).get("results")
        if not results:
            return []
        rows = [[e["expectation"], e["column"], "pass" if e["success"] else "fail", e["unexpected_count"],
                 e["unexpected_percent"]] for e in results]
        columns = ["expectation", "column", "result", "unexpected", "%"]
        return [TableBlock(title="Expectations", columns=columns, rows=rows, status_column="result",
                           page_size=None)]

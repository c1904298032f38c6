"""The Python API of curate, for notebooks and scripts: the same loaders, checks and splits as the CLI.

    import curate
    result = curate.check(df)                 # a path, bundled:NAME, a DataFrame, a datasets.Dataset,
                                              # or dicts
    result.passed, result.to_pandas()         # the gate, and every finding as a DataFrame
    from curate.api import split
    parts = split(result.data, val=0.2, test=0.1, group_by="near_duplicate")

docs/api.md shows each function with examples that the test suite runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.io.load import LoadedData
from schemas.findings import CheckStatus
from schemas.results import CheckReport


@dataclass
class QAResult:
    """The outcome of `check`: the loaded data, the report (the JSON contract), and the gate."""

    data: LoadedData
    report: CheckReport
    fail_on: str
    _ctx: Any = None

    @property
    def passed(self) -> bool:
        """Whether the quality gate passed at `fail_on` (the same rule as `curate check`'s exit code)."""
        from curate.runner import gate_fails

        return not gate_fails(self.report, self.fail_on)

    @property
    def statuses(self) -> dict[str, str]:
        """Each check's status: pass, warn, fail, error or not_run."""
        return {c.name: c.status.value for c in self.report.checks}

    def failed(self) -> list[str]:
        """Names of the checks that failed or errored."""
        return [c.name for c in self.report.checks if c.status in (CheckStatus.fail, CheckStatus.error)]

    def to_pandas(self) -> Any:
        """Every finding of every check, one row each: check, id, reason, severity, message, and the
        finding's other fields (cluster, duplicate_of, tokens ...)."""
        import pandas as pd

        rows = []
        for c in self.report.checks:
            for f in c.findings:
                d = f.model_dump(mode="json")
                rows.append({"check": c.name, **d})
        cols = ["check", "id", "reason", "severity", "message"]
        df = pd.DataFrame(rows)
        return df[[*cols, *(c for c in df.columns if c not in cols)]] if rows else pd.DataFrame(columns=cols)

    def write_json(self, path: str | Path) -> Path:
        """Write the report as `curate check --json` does (docs/json-contract.md)."""
        from curate.io import write_json

        write_json(self.report, path)
        return Path(path)

    def write_report(self, folder: str | Path) -> Path:
        """Write the QA report (index.html, report.md, report.json, checks.json) into `folder`; returns
        the HTML."""
        from curate.report import write_qa_report

        return Path(write_qa_report(self.report, self._ctx, folder))


def _config(data: Any, kind: str | None, config: str | Path | None, settings: dict[str, Any]) -> Any:
    from schemas.configs.base import load_config
    from schemas.configs.curate import CurateConfig

    overrides = {k: v for k, v in settings.items() if v is not None}
    path = "<memory>" if not isinstance(data, str | Path) else str(data)
    overrides["input.path"] = path
    if kind is not None:
        overrides["input.kind"] = kind
    return load_config(CurateConfig, Path(config) if config else None, overrides)


def check(
    data: Any,
    *,
    kind: str | None = None,
    config: str | Path | None = None,
    enable: list[str] | None = None,
    disable: list[str] | None = None,
    fail_on: str | None = None,
    against: str | None = None,
    tokenizer: str | None = None,
    max_length: int | None = None,
    **load_options: Any,
) -> QAResult:
    """Load `data`, validate every row, and run the data checks, exactly as `curate check` does.

    Args:
        data: A path, `bundled:NAME`, a pandas DataFrame, a `datasets.Dataset` or a list of dicts.
        kind: classification, completion, chat or text; inferred from the fields when omitted.
        config: A curate YAML config (the same file `curate check --config` takes).
        enable, disable: Checks to switch on (opt-in ones such as semantic_duplicate) or off.
        fail_on: The gate: fail (default), warn or never (the old error and warning still work).
        against: Another split to check for leakage.
        tokenizer, max_length: Run the token audit with this tokenizer and length.
        **load_options: LoadConfig fields: text_field, label_field, sample ... (`input.` keys of the config).

    Returns:
        A QAResult: `.passed`, `.statuses`, `.to_pandas()`, `.write_report(folder)`, `.data` (the records and
        the quarantine).
    """
    from curate.io import load
    from curate.runner import run_suite

    settings = {f"input.{k}": v for k, v in load_options.items()}
    settings.update(
        {"fail_on": fail_on, "against": against, "tokenizer": tokenizer, "max_length": max_length}
    )
    cfg = _config(data, kind, config, settings)
    loaded = None
    if not isinstance(data, str | Path):
        loaded = load(
            data, **{k: v for k, v in cfg.input.model_dump().items() if k not in ("path", "format")}
        )
    outcome = run_suite(cfg, data=loaded, config_dir=Path(config).parent if config else None,
                        enable=enable or [], disable=disable or [])
    return QAResult(outcome.data, outcome.report, cfg.fail_on, outcome.ctx)


def split(data: Any, *, out: str | Path | None = None, kind: str | None = None, overwrite: bool = False,
          **options: Any) -> Any:
    """Split records into train/val(/test) or k folds, stratified and keeping groups whole (`curate split`).

    Args:
        data: A path, `bundled:NAME`, in-memory data (as `check` takes), or a LoadedData / QAResult.data.
        out: Write the split folder here (files, manifest.json, README.md card); else only return it.
        kind: The record kind, when `data` is loaded here.
        overwrite: Replace an earlier split folder datavet wrote at `out` (never another program's folder).
        **options: SplitConfig fields: val, test, kfold, stratify, group_field, group_by, seed, rare_class ...

    Returns:
        The SplitResult: `.files` (split name -> row indices), `.rows(name)`, `.manifest()`.
    """
    from curate.io import load
    from curate.split import split_records, write_splits
    from schemas.configs.base import validate_config
    from schemas.configs.split import SplitConfig

    loaded = data if isinstance(data, LoadedData) else load(data, kind=kind)
    cfg = validate_config(SplitConfig, options, "split options")
    result = split_records(loaded.records, cfg, kind=loaded.kind)
    if out is not None:
        write_splits(result, out, overwrite=overwrite)
    return result

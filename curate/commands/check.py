"""`curate check DATA`: load, run every registered check, print the summary, write JSON and reports.

Settings come from `--config` (a `CurateConfig` YAML: input, per-check parameters under `checks:`, `enable`,
`disable`, `expectations`, `fail_on`), then `--set key=value` overrides, then the flags, which win.
`--out DIR`
writes the QA report with a manifest that records the command line and the resolved config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from common.options import config_option, fail_on_option, grouped, json_option, out_option, set_option
from curate.commands import options as o

Config = config_option(
    "A curate YAML config (CurateConfig: input, checks, enable, disable, fail_on, ...) (default: none)."
)
Set = set_option(
    "Override a config key, e.g. --set checks.length.max_chars=2000 (repeatable; default: none)."
)
Json = json_option("Write the machine-readable result to this file (docs/json-contract.md) (default: none).")
Out = out_option(
    "Write the QA report folder here: index.html, report.md, checks.json, manifest.json (default: none)."
)
FailOn = fail_on_option(
    "Exit 1 when a check reaches this status: fail (fail or error), warn (also warn), never (default: the "
    "config's fail_on, else fail)."
)


def resolve_config(data: str | None, config: Path | None, sets: list[str], flags: dict[str, Any]):
    """Merge the config file, `--set` overrides and explicit flags into one validated CurateConfig."""
    from common.options import resolve_config as resolve
    from schemas.configs.curate import CurateConfig
    from schemas.errors import UsageError

    if data is None and config is None:
        raise UsageError(
            "no data to check", fix="pass a data file, folder or bundled:NAME, or --config with input.path"
        )
    return resolve(CurateConfig, config, sets, {"input.path": data, **flags})


def register(app: typer.Typer) -> None:
    @app.command()
    @grouped
    def check(
        data: Annotated[
            Optional[str],
            typer.Argument(help="Data file, folder, or bundled:NAME (default: input.path of --config)."),
        ] = None,
        config: Config = None,
        sets: Set = None,
        against: Annotated[
            Optional[str],
            typer.Option("--against", help="Another split to check for leakage (default: none)."),
        ] = None,
        split_field: Annotated[
            Optional[str],
            typer.Option(
                "--split-field",
                help="Column naming each row's split, for leakage within one file (default: none).",
            ),
        ] = None,
        group_field: Annotated[
            Optional[str],
            typer.Option(
                "--group-field", help="Column naming each row's group, for the bias checks (default: none)."
            ),
        ] = None,
        tokenizer: Annotated[
            Optional[str],
            typer.Option(
                "--tokenizer",
                help="Model whose tokenizer audits lengths: "
                "minilm, smollm2, or a folder (default: no token audit).",
            ),
        ] = None,
        max_length: Annotated[
            Optional[int],
            typer.Option(
                "--max-length",
                min=1,
                help="Max sequence length for the token audit (default: none; needs --tokenizer).",
            ),
        ] = None,
        kfold: Annotated[
            Optional[int],
            typer.Option(
                "--kfold", min=2, help="Planned k of a k-fold split, for class_balance (default: none)."
            ),
        ] = None,
        expectations: Annotated[
            Optional[Path],
            typer.Option("--expectations", help="A great-expectations suite YAML (default: none)."),
        ] = None,
        enable: Annotated[
            Optional[list[str]],
            typer.Option(
                "--enable",
                help="Run an opt-in check, e.g. "
                "semantic_duplicate (repeatable; default: none; `curate checks` lists "
                "them).",
            ),
        ] = None,
        disable: Annotated[
            Optional[list[str]],
            typer.Option("--disable", help="Do not run this check (repeatable; default: none)."),
        ] = None,
        dedup_key: Annotated[
            Optional[str],
            typer.Option(
                "--dedup-key",
                help="What duplicate detection ignores: "
                "a comma list of whitespace, urls, mentions, numbers, punctuation, case, or social "
                "(all but case) or none (default: whitespace).",
            ),
        ] = None,
        json_out: Json = None,
        out: Out = None,
        label_issues: Annotated[
            Optional[Path],
            typer.Option(
                "--label-issues",
                help="label_issues.json from `evalsuite cv`: likely label errors to show (default: none).",
            ),
        ] = None,
        fail_on: FailOn = None,
        loader: dict = o.LOADER,
        seed: Annotated[
            Optional[int],
            typer.Option("--seed", help="Seed of --sample and of seeded checks (default: config, else 0)."),
        ] = None,
        split: o.HfSplit = None,
        overwrite: o.Overwrite = False,
        cli: typer.Context = None,  # type: ignore[assignment]
    ) -> None:
        """Load DATA, validate every row, run the data checks, and gate on the result."""
        o.claim_outputs(cli, folder=out, files=(json_out,), overwrite=overwrite, command="curate check")
        from curate.console import print_check_summary, print_load_summary
        from curate.io import write_json
        from curate.runner import GATE_LEVELS, gate_fails, run_suite
        from schemas.errors import UsageError

        if fail_on is not None and fail_on not in GATE_LEVELS:
            raise UsageError(f"--fail-on {fail_on!r} is not a gate level", fix="use fail, warn or never")
        if (tokenizer is None) != (max_length is None):
            raise UsageError("the token audit needs both --tokenizer and --max-length",
                             fix="pass both, e.g. --tokenizer smollm2 --max-length 512")
        flags = {
            **{f"input.{k}": v for k, v in o.loader_fields(loader).items()},
            "input.seed": seed,
            "seed": seed,
            "input.split": split,
            "input.group_field": group_field,
            "against": against,
            "split_field": split_field,
            "group_field": group_field,
            "tokenizer": tokenizer,
            "max_length": max_length,
            "expectations": str(expectations) if expectations else None,
            "fail_on": fail_on,
        }
        if dedup_key is not None:
            flags.update({f"dedup_key.{k}": v for k, v in o.dedup_key_spec(dedup_key).model_dump().items()})
        cfg = resolve_config(data, config, sets or [], flags)
        # progress (loading, then each check) goes to stderr from run_suite's checks runner
        outcome = run_suite(
            cfg,
            config_dir=config.parent if config is not None else None,
            enable=enable or [],
            disable=disable or [],
            kfold=kfold,
            label_issues=label_issues,
            on_load=lambda d: print_load_summary(d.summary),
        )
        ctx, report = outcome.ctx, outcome.report
        print_check_summary(report)
        from curate.console import print_verdict
        from curate.report import qa_verdict

        print_verdict(qa_verdict(report, cfg.fail_on))
        if json_out:
            write_json(report, json_out)
            typer.echo(f"wrote {json_out}")
        if out:
            from curate.report import write_qa_report
            from schemas.manifest import RunManifest

            html = write_qa_report(report, ctx, out, fail_on=cfg.fail_on)
            settings = {**cfg.model_dump(mode="json"), "kfold": kfold, "label_issues": str(label_issues) if
                        label_issues else None, "json": str(json_out) if json_out else None, "out": str(out)}
            inputs = {p: p for p in (cfg.input.path, cfg.against) if p and not str(p).startswith("bundled:")}
            write_json(RunManifest.create("curate check", inputs=inputs, config=settings, seed=cfg.seed),
                       out / "manifest.json")
            typer.echo(f"wrote {html} (and report.md, report.json, checks.json, manifest.json)")
        if gate_fails(report, cfg.fail_on):
            typer.secho(f"quality gate failed (--fail-on {cfg.fail_on})", fg="red", err=True)
            raise typer.Exit(1)

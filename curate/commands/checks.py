"""`curate checks`: every data check with its one-line description, whether it runs by default, and its
parameters (name, type, default, meaning), as set under `checks.NAME.PARAM` in a config or with `--set`."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def _type_name(annotation: Any) -> str:
    import re

    if isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", str(annotation))  # typing.X, curate.checks.m.Spec -> X, Spec


def check_catalogue() -> list[dict[str, Any]]:
    """[{name, description, default_enabled, params: [{name, type, default, description}]}] in run order."""
    from curate.checks import REGISTRY, RESERVED

    out = []
    for name, cls in REGISTRY.items():
        params = [
            {
                "name": k,
                "type": _type_name(f.annotation),
                "default": f.get_default(call_default_factory=True),
                "description": f.description or "",
            }
            for k, f in cls.Params.model_fields.items()
        ]
        out.append({"name": name, "description": cls.description, "default_enabled": cls.default_enabled,
                    "params": params})
    out += [{"name": n, "description": d, "default_enabled": False, "params": [], "reserved": True}
            for n, d in RESERVED.items()]
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def checks(
        json_out: Annotated[bool, typer.Option("--json", help="Print the list as JSON on stdout (default: "
                                               "text).")] = False,
    ) -> None:
        """List every data check: what it detects, whether it runs by default, and its parameters."""
        import json

        cat = check_catalogue()
        if json_out:
            typer.echo(json.dumps(cat, indent=2, default=str))
            return
        for c in cat:
            when = "written by evalsuite cv" if c.get("reserved") else (
                "runs by default" if c["default_enabled"] else "opt-in: --enable " + c["name"])
            typer.echo(f"{c['name']}  ({when})\n    {c['description']}")
            for p in c["params"]:
                typer.echo(f"    - checks.{c['name']}.{p['name']}: {p['type']} = {p['default']!r}"
                           + (f"  {p['description']}" if p["description"] else ""))
        typer.echo("\nSet a parameter in a config under `checks:` or with `--set checks.NAME.PARAM=VALUE`.")

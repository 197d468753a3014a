"""`siliconbench models list`: the shipped model configs."""

from __future__ import annotations

import json
import os
from enum import Enum

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.config import BACKEND_NAMES, DEFAULT_CONFIG_NAME, config_files, load_config
from orchestrator.errors import UserError


class ListFormat(str, Enum):
    table = "table"
    json = "json"


def list_models() -> list[dict]:
    """Every config in model_configs/ (a broken one is reported, not skipped silently)."""
    rows = []
    for path in config_files():
        try:
            config = load_config(path)
        except UserError as err:
            rows.append({"name": path.stem, "path": str(path), "backend": None, "default": False,
                         "error": str(err)})
            continue
        rows.append({
            "name": config.name, "path": str(path), "backend": config.backend,
            "default": path.stem == DEFAULT_CONFIG_NAME,
            "backends": [b for b in BACKEND_NAMES if getattr(config, b)],
            "parameters_b": config.parameters.total_b if config.parameters else None, "active_b": config.active_b,
            "thinking": config.thinking, "description": config.description,
        })
    return rows


def _short_path(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path


def register(app: typer.Typer) -> None:
    models = typer.Typer(help="The model configs in model_configs/.", no_args_is_help=True)

    @models.command("list")
    def list_cmd(fmt: ListFormat = typer.Option(ListFormat.table, "--format", help="table or json")) -> None:
        """List the model configs: name, path, backend, whether it is the embedded default."""
        rows = list_models()
        if fmt == ListFormat.json:
            typer.echo(json.dumps({"models": rows}, indent=2))
            return
        table = Table(title="model configs")
        table.add_column("name", no_wrap=True)
        for col in ("backend", "also", "params (B)", "thinking", "default"):
            table.add_column(col)
        table.add_column("path", overflow="fold")
        for r in rows:
            if r.get("error"):
                table.add_row(r["name"], "[red]invalid[/red]", "", "", "", "", r["error"])
                continue
            also = ", ".join(b for b in r["backends"] if b != r["backend"])
            params = "?" if r["parameters_b"] is None else f"{r['parameters_b']:g}"
            if r["active_b"] not in (None, r["parameters_b"]):
                params += f" ({r['active_b']:g} active)"
            table.add_row(r["name"], r["backend"], also, params, r["thinking"], "yes" if r["default"] else "",
                          _short_path(r["path"]))
        Console().print(table)

    app.add_typer(models, name="models")

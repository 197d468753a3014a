"""`siliconbench models list`: the shipped model configs."""

from __future__ import annotations

import json
import os
from enum import Enum

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.config import BACKEND_NAMES, CONFIG_DIR, DEFAULT_CONFIG_NAME, config_files, load_config
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
        # Every shipped config is model_configs/<name>.yaml: said once under the table, so the table
        # keeps to 80 columns (a path column folded letter by letter at that width).
        folder = _short_path(str(CONFIG_DIR))
        table = Table(title="model configs", caption=f"* the embedded default · files: {folder}/NAME.yaml")
        table.add_column("name", no_wrap=True)
        for col in ("backend", "also", "params (B)", "thinking"):
            table.add_column(col)
        for r in rows:
            name = r["name"] + (" *" if r["default"] else "")
            if r.get("error"):
                table.add_row(name, "[red]invalid[/red]", "", "", "")
                continue
            also = ", ".join(b for b in r["backends"] if b != r["backend"])
            params = "?" if r["parameters_b"] is None else f"{r['parameters_b']:g}"
            if r["active_b"] not in (None, r["parameters_b"]):
                params += f" ({r['active_b']:g} active)"
            table.add_row(name, r["backend"], also, params, r["thinking"])
        console = Console()
        console.print(table)
        for r in rows:  # a broken config's message is a whole line, never squeezed into a cell
            if r.get("error"):
                console.print(f"{r['name']}: {r['error']}", style="red", markup=False, soft_wrap=True)

    app.add_typer(models, name="models")

"""`siliconbench size`: which Mac can run which model, from specs and from measured runs."""

from __future__ import annotations

import json
import re
from enum import Enum

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.config import CONFIG_DIR, ModelConfig, load_config, parse_config
from orchestrator.errors import UserError
from orchestrator.sizing.catalog import load_catalog, options, select, this_mac
from orchestrator.sizing.model import DEFAULT_CONTEXT, RUNTIME_OVERHEAD_GB, size_report
from orchestrator.sizing.measured import read_results

SEED_MODELS = ("gemma-4-31b", "devstral-2-123b", "minimax-m2.5", "qwen3-coder-next", "qwen3.5-27b")
VERDICT_STYLE = {"fits": "[green]fits[/green]", "fits_raised_limit": "[yellow]raise[/yellow]",
                 "no": "[red]no[/red]", "unknown": "?"}


class SizeFormat(str, Enum):
    table = "table"
    json = "json"


def parse_context(text: str | None) -> int | None:
    """`32768`, `32k` or `1M` tokens; anything else is a one-line UserError."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise UserError(f"--context '{text}' is not a number of tokens; give e.g. 32768, 32k or 1M")
    value = float(match[1]) * {"": 1, "k": 1024, "m": 1024**2}[match[2].lower()]
    if value < 1:
        raise UserError(f"--context '{text}' must be at least 1 token")
    return int(value)


def gather_configs(names: list[str], measured: dict) -> list[ModelConfig]:
    """The named configs; without names the five seed models plus any other model the results hold."""
    if names:
        return [load_config(n) for n in names]
    configs = [load_config(CONFIG_DIR / f"{n}.yaml") for n in SEED_MODELS]
    known = {c.name for c in configs}
    for label, m in measured.items():
        if label in known or not m.config:
            continue
        try:
            config = parse_config(m.config, f"meta.json of {label}")
        except UserError:
            continue  # a config an older schema wrote: its model is sized only when named
        config.name = label
        configs.append(config)
    return configs


def run_size(configs: list[str], results: list[str], mac: str | None, context: str | None,
             raised_limit: bool, catalog: str | None) -> dict:
    """The library call behind the verb: returns {"rows": [...], "models": [...]}."""
    tokens = parse_context(context)  # first: a bad number fails before any file is read
    entries = load_catalog(catalog)
    here = this_mac(entries)
    if here is not None:
        entries = [here, *entries]
    if mac:
        entries = select(entries, mac)
    measured = read_results(results) if results else {}
    report = size_report(gather_configs(configs, measured), options(entries), tokens, raised_limit, measured)
    report["context"] = tokens or DEFAULT_CONTEXT
    report["overhead_gb"] = RUNTIME_OVERHEAD_GB
    return report


def _money(price: float | None, unknown: str = "") -> str:
    return unknown if price is None else f"${price:,.0f}"


def _fit(fit: dict | None) -> str:
    return f"{fit['mac']} {_money(fit['price_usd'], '(price unknown)')}" if fit else "none"


def print_tables(report: dict, console: Console) -> None:
    summary = Table(title=f"memory needed at {report['context']} tokens of context (GB = 2^30 bytes)")
    for col in ("model", "weights", "KV", "needed", "from", "cheapest fit (known prices)", "least memory",
                "cheapest with raised limit", "score", "measured tok/s"):
        summary.add_column(col)
    for m in report["models"]:
        fit, fit_raised = m["cheapest_fit"], m["cheapest_fit_raised_limit"]
        summary.add_row(
            m["model"], _gb(m["weights_gb"]), _gb(m["kv_gb"]), _gb(m["needed_gb"]), m["needed_source"],
            _fit(fit), m["smallest_fit"]["mac"] if m["smallest_fit"] else "none", _fit(fit_raised),
            m["score"] or "", "" if m["measured_decode_tps"] is None else f"{m['measured_decode_tps']:g}")
    console.print(summary)
    models = [m["model"] for m in report["models"]]
    grid = Table(title="verdict and roofline decode tok/s (raise = fits once iogpu.wired_limit_mb is raised; "
                       "real engines reach ~60-80% of the roofline)")
    for col in ("Mac", "GB", "usable", "GB/s", "price"):
        grid.add_column(col)
    for name in models:
        grid.add_column(name)
    by_mac: dict[str, dict[str, dict]] = {}
    for r in report["rows"]:
        by_mac.setdefault(r["mac"], {})[r["model"]] = r
    for mac, cells in by_mac.items():
        first = next(iter(cells.values()))
        flag = "*" if first["uncertain"] else ""
        grid.add_row(mac + flag, f"{first['memory_gb']:g}", _gb(first["usable_gb"]),
                     "" if first["bandwidth_gbs"] is None else f"{first['bandwidth_gbs']:g}",
                     _money(first["price_usd"]), *(_cell(cells.get(n)) for n in models))
    console.print(grid)
    console.print("* a value of this Mac is uncertain (see orchestrator/sizing/macs.yaml); "
                  f"needed = weights + KV + {report['overhead_gb']:g} GB runtime", highlight=False)
    for m in report["models"]:
        for note in m["notes"]:
            console.print(f"{m['model']}: {note}", highlight=False, markup=False)


def _gb(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def _cell(r: dict | None) -> str:
    if r is None:
        return ""
    text = VERDICT_STYLE[r["verdict"]]
    if r["roofline_decode_tps"] is not None and r["verdict"] != "no":
        text += f" {r['roofline_decode_tps']:.0f}"
    if r["measured_ratio"] is not None:
        text += f" (measured {r['measured_decode_tps']:g}, {r['measured_ratio']:.0%})"
    return text


def register(app: typer.Typer) -> None:
    @app.command("size")
    def size_cmd(
        configs: list[str] = typer.Argument(None, help="Model configs (paths or names); default: the five seed models."),
        results: list[str] = typer.Option([], "--results", help="Results folder(s): measured memory, speed, score."),
        mac: str = typer.Option(None, "--mac", help="Only Macs whose id or name contains this."),
        context: str = typer.Option(None, "--context", help=f"Context tokens to size the KV cache for (default {DEFAULT_CONTEXT})."),
        raised_limit: bool = typer.Option(False, "--raised-limit", help="Show usable memory with iogpu.wired_limit_mb raised."),
        catalog: str = typer.Option(None, "--catalog", help="YAML of Macs merged over the shipped catalog (by id)."),
        fmt: SizeFormat = typer.Option(SizeFormat.table, "--format", help="table or json"),
    ) -> None:
        """Which Mac can run which model: memory needed, verdict, cheapest fit, roofline vs measured speed."""
        report = run_size(configs or [], results, mac, context, raised_limit, catalog)
        if fmt == SizeFormat.json:
            typer.echo(json.dumps(report, indent=2))
            return
        print_tables(report, Console())

"""`siliconbench size`: which Mac can run which model, from specs and from measured runs."""

from __future__ import annotations

import json
import re
from enum import Enum

import typer
from rich.console import Console

from orchestrator.config import CONFIG_DIR, ModelConfig, load_config, parse_config
from orchestrator.errors import UserError
from orchestrator.sizing.calibrate import speeds_for
from orchestrator.sizing.catalog import load_catalog, options, select_options, this_mac
from orchestrator.sizing.measured import read_results
from orchestrator.sizing.model import DEFAULT_CONTEXT, RUNTIME_OVERHEAD_GB
from orchestrator.sizing.render import print_report
from orchestrator.sizing.rows import size_report

SEED_MODELS = ("gemma-4-31b", "devstral-2-123b", "minimax-m2.5", "qwen3-coder-next", "qwen3.5-27b")


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
             raised_limit: bool, catalog: str | None, min_tps: float | None = None,
             current_only: bool = False) -> dict:
    """The library call behind the verb: returns {"rows": [...], "models": [...], ...}."""
    tokens = parse_context(context)  # first: a bad number fails before any file is read
    if min_tps is not None and min_tps <= 0:
        raise UserError(f"--min-tps {min_tps:g} must be a positive decode speed in tokens/s, e.g. 20")
    entries = load_catalog(catalog)
    here = this_mac(entries)
    all_entries = [here, *entries] if here is not None else entries
    mac_options = options(all_entries)
    if current_only:
        mac_options = [o for o in mac_options if o.entry.status == "current" or o.entry.id == "this-mac"]
    if mac:
        mac_options = select_options(mac_options, mac)
    measured = read_results(results) if results else {}
    chosen = gather_configs(configs, measured)
    speeds, notes = speeds_for(measured, chosen, entries)
    report = size_report(chosen, mac_options, speeds, tokens, raised_limit, measured, min_tps)
    report["context"] = tokens or DEFAULT_CONTEXT
    report["overhead_gb"] = RUNTIME_OVERHEAD_GB
    report["speed_model"] = {
        engine: {"decode_coefficients": list(s.decode.coefficients), "decode_range": [s.decode.ratio_low, s.decode.ratio_high],
                 "prefill_coefficients": list(s.prefill.coefficients), "prefill_range": [s.prefill.ratio_low, s.prefill.ratio_high],
                 "measured_turns_used": s.calibrated_turns}
        for engine, s in speeds.items()}
    report["notes"] = notes
    return report


def register(app: typer.Typer) -> None:
    @app.command("size")
    def size_cmd(
        configs: list[str] = typer.Argument(None, help="Model configs (paths or names); default: the five seed models."),
        results: list[str] = typer.Option([], "--results", help="Results folder(s): measured memory, speed and score; their turns calibrate the speed model for every Mac."),
        mac: str = typer.Option(None, "--mac", help="Only Macs matching these words: 'm4 max 64', 'studio m3 ultra', an id."),
        context: str = typer.Option(None, "--context", help=f"Context tokens to size the KV cache for (default {DEFAULT_CONTEXT})."),
        raised_limit: bool = typer.Option(False, "--raised-limit", help="Show usable memory with iogpu.wired_limit_mb raised."),
        catalog: str = typer.Option(None, "--catalog", help="YAML of Macs merged over the shipped catalog (by id)."),
        min_tps: float = typer.Option(None, "--min-tps", help="Also find the cheapest current Mac decoding at least this fast."),
        current: bool = typer.Option(False, "--current", help="Only Macs Apple sells new today."),
        fmt: SizeFormat = typer.Option(SizeFormat.table, "--format", help="table or json"),
    ) -> None:
        """Which Mac can run which model, and how fast: memory, largest context, decode and prefill speed,
        time to first token, the full benchmark's duration (with --results), the cheapest fit."""
        report = run_size(configs or [], results, mac, context, raised_limit, catalog, min_tps, current)
        if fmt == SizeFormat.json:
            typer.echo(json.dumps(report, indent=2))
            return
        print_report(report, Console())

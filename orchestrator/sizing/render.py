"""`siliconbench size` as text tables that stay legible in an 80-column terminal.

Three shapes, picked by what fits: a grid (one Mac per row, one column per model) when the models fit
side by side; one table per model (one Mac per row) when they do not; one machine's view (one model
per row) when `--mac` picked a single configuration. Each starts with a summary line per model.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

VERDICT = {"fits": "fits", "fits_raised_limit": "raise", "no": "no", "unknown": "?"}
MAC_WIDTH = 27
CELL_WIDTH = 8
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _tps(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _range(r: dict) -> str:
    if r["decode_tps"] is None:
        return "?"
    return f"{_tps(r['decode_tps'])} ({_tps(r['decode_tps_low'])}-{_tps(r['decode_tps_high'])})"


def _ctx(tokens: int | None) -> str:
    if tokens is None:
        return "?"
    if tokens >= 1024:
        return f"{tokens // 1024}K"
    return str(tokens)


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    if value >= 120:
        return f"{value / 60:.0f}m"
    return f"{value:.1f}s" if value < 10 else f"{value:.0f}s"


def _money(price: float | None) -> str:
    return "" if price is None else f"${price:,.0f}"


def _hours(value: float | None) -> str:
    return "" if value is None else (f"{value:.1f}h" if value < 100 else f"{value:.0f}h")


def summary_lines(report: dict) -> list[str]:
    lines = []
    for m in report["models"]:
        need = "?" if m["needed_gb"] is None else f"{m['needed_gb']:.1f} GB"
        lines.append(f"{m['model']}: needs {need} at {_ctx(m['context'])} context ({m['needed_source']})")
        fit = m["cheapest_current_fit"]
        lines.append("  cheapest current fit: " + (
            f"{fit['short']} GB {_money(fit['price_usd'])}, ~{_tps(fit['decode_tps'])} tok/s"
            + (f", full benchmark ~{_hours(fit['benchmark_h'])}" if fit.get("benchmark_h") else "") if fit else "none"))
        if m["min_decode_tps"]:
            fast = m["cheapest_at_speed"]
            lines.append(f"  cheapest at >= {m['min_decode_tps']:g} tok/s: " + (
                f"{fast['short']} GB {_money(fast['price_usd'])}, ~{_tps(fast['decode_tps'])} tok/s" if fast
                else "no current Mac with a known price"))
        if m["score"]:
            lines.append(f"  measured: score {m['score']}, {_tps(m['measured_decode_tps'])} tok/s on "
                         f"{m['measured_on']}")
        lines += [f"  note: {note}" for note in m["notes"]]
    return lines


def _table(title: str) -> Table:
    """A borderless table; its title is printed as wrapped text above it (a rich title wraps to the
    table's own width, which is narrow)."""
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold", show_edge=False)
    table.caption_text = title
    return table


def _print_table(table: Table, console: Console) -> None:
    console.print(getattr(table, "caption_text", ""), highlight=False, markup=False)
    console.print(table)


def wrap_words(words: list[str], width: int) -> list[str]:
    lines, line = [], ""
    for word in words:
        if line and len(line) + 2 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line}  {word}" if line else word
    return lines + ([line] if line else [])


def headers(models: list[str]) -> dict[str, str]:
    """Model names as column headers: themselves when all fit a cell, else letters (with a legend)."""
    if all(len(name) <= CELL_WIDTH for name in models):
        return {name: name for name in models}
    return {name: LETTERS[i % len(LETTERS)] for i, name in enumerate(models)}


def grid(report: dict, short: dict[str, str]) -> Table:
    models = [m["model"] for m in report["models"]]
    table = _table(f"expected decode tok/s at {_ctx(report['context'])} context "
                   "(no: does not fit; r: fits once the wired limit is raised)")
    table.add_column("Mac (chip GPU machine GB)", no_wrap=True, max_width=MAC_WIDTH)
    for name in models:
        table.add_column(short[name], justify="right", no_wrap=True, max_width=CELL_WIDTH)
    for mac, cells in _by_mac(report["rows"]).items():
        first = next(iter(cells.values()))
        row = [first["short"]]
        for name in models:
            r = cells.get(name)
            if r is None or r["verdict"] in ("no", "unknown"):
                row.append(VERDICT[r["verdict"]] if r else "")
            else:
                row.append(("r" if r["verdict"] == "fits_raised_limit" else "") + _tps(r["decode_tps"]))
        table.add_row(*row)
    return table


def per_model(report: dict, model: str, benchmark: bool) -> Table:
    table = _table(f"{model}: decode tok/s expected (range) at {_ctx(report['context'])} context, "
                   f"time to first token for a {_ctx(report['context'])} prompt")
    for name, justify in (("Mac (chip GPU machine GB)", "left"), ("fit", "left"), ("tok/s", "right"),
                          ("TTFT", "right"), ("ctx", "right"), ("$", "right")):
        table.add_column(name, justify=justify, no_wrap=True, max_width=MAC_WIDTH)
    if benchmark:
        table.add_column("bench", justify="right", no_wrap=True)
    for r in report["rows"]:
        if r["model"] != model:
            continue
        row = [r["short"], VERDICT[r["verdict"]], _range(r), _seconds(r["ttft_s"]), _ctx(r["max_context"]),
               _money(r["price_usd"])]
        if benchmark:
            row.append(_hours(r["benchmark_h"]))
        table.add_row(*row)
    return table


def machine_view(report: dict, benchmark: bool) -> Table:
    first = report["rows"][0]
    table = _table(f"{first['mac']}: {first['usable_gb']:g} GB usable by the GPU, "
                   f"{first['bandwidth_gbs']:g} GB/s, {_ctx(report['context'])} context")
    for name in ("model", "needs", "fit", "tok/s", "pp/s", "TTFT", "ctx"):
        table.add_column(name, no_wrap=True, max_width=22, justify="left" if name in ("model", "fit") else "right")
    if benchmark:
        table.add_column("bench", justify="right", no_wrap=True)
    for r in report["rows"]:
        row = [r["model"], "?" if r["needed_gb"] is None else f"{r['needed_gb']:.0f}GB", VERDICT[r["verdict"]],
               _range(r), _tps(r["prefill_tps"]), _seconds(r["ttft_s"]), _ctx(r["max_context"])]
        if benchmark:
            row.append(_hours(r["benchmark_h"]))
        table.add_row(*row)
    return table


def _by_mac(rows: list[dict]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for r in rows:
        out.setdefault(r["mac"], {})[r["model"]] = r
    return out


def print_report(report: dict, console: Console) -> None:
    for line in summary_lines(report):
        console.print(line, highlight=False, markup=False, soft_wrap=False)
    console.print()
    benchmark = any(r["benchmark_h"] is not None for r in report["rows"])
    macs = _by_mac(report["rows"])
    models = [m["model"] for m in report["models"]]
    short = headers(models)
    if len(macs) == 1:
        _print_table(machine_view(report, benchmark), console)
    elif len(models) > 1 and MAC_WIDTH + len(models) * (CELL_WIDTH + 2) <= console.width:
        if any(short[n] != n for n in models):
            for line in wrap_words([f"{short[n]} = {n}" for n in models], console.width):
                console.print(line, highlight=False, markup=False)
        _print_table(grid(report, short), console)
    else:
        for name in models:
            _print_table(per_model(report, name, benchmark), console)
            console.print()
    console.print("fits = within the GPU's default memory limit; raise = only after `sudo sysctl "
                  "iogpu.wired_limit_mb=...`; ctx = largest context that fits; ranges cover 90% of the "
                  "errors seen on public measurements the fit did not use.", highlight=False, markup=False)
    if any(r["uncertain"] for r in report["rows"]):
        console.print("* some catalog values are uncertain: see orchestrator/sizing/macs.yaml",
                      highlight=False, markup=False)

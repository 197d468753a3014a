"""The report's figures as PNG bytes, drawn from the report dict with matplotlib's Agg backend.

Agg needs no display, so reports render the same on a headless CI box as on a laptop. A figure
with nothing to draw (no model measured a decode speed, no thinking figure known) is left out
rather than drawn empty.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402

from orchestrator.report.harness_gap import raw_vs_harness_figure  # noqa: E402

GIB = 1024**3
FIGURE_TITLES = {
    "score_vs_decode": "Score vs decode speed",
    "score_vs_memory": "Score vs peak memory",
    "thinking_per_task": "Thinking tokens per task and model",
    "thinking_tax": "Generated tokens per run: thinking and useful, with useful tok/s",
    "memory_over_turns": "Server memory over the turns of a run",
    "raw_vs_harness": "Raw vs real harnesses: pass rate per model",
}


def _colours(report: dict[str, Any]) -> dict[str, str]:
    """One colour per model, the same in every figure."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {m["label"]: cycle[i % len(cycle)] for i, m in enumerate(report["models"])}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _pass_rate(report: dict[str, Any], label: str) -> float | None:
    total = report["score"].get(report["primary_mode"], {}).get("total", {}).get(label)
    return total["passes"] / total["runs"] if total and total["runs"] else None


def _scatter(report: dict[str, Any], x_of, xlabel: str) -> bytes | None:
    points, colours = [], _colours(report)
    for m in report["models"]:
        x, y = x_of(report["performance"][m["label"]]), _pass_rate(report, m["label"])
        if x is not None and y is not None:
            name = m["label"] + (f" (×{m['concurrency']} concurrent)" if m["concurrency"] > 1 else "")
            points.append((x, 100 * y, name, colours[m["label"]]))
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for x, y, name, colour in points:
        ax.scatter(x, y, s=60, color=colour)
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"pass rate, % ({report['primary_mode']} runs)")
    ax.set_ylim(-5, 105)
    ax.set_xlim(left=0, right=max(p[0] for p in points) * 1.25 or 1)
    ax.grid(alpha=0.3)
    return _png(fig)


def score_vs_decode(report: dict[str, Any]) -> bytes | None:
    return _scatter(report, lambda p: p["decode_tps_median"], "median decode tok/s (warm turns)")


def score_vs_memory(report: dict[str, Any]) -> bytes | None:
    return _scatter(report, lambda p: None if p["peak_memory_bytes"] is None else p["peak_memory_bytes"] / GIB,
                    "peak memory, GiB")


def thinking_per_task(report: dict[str, Any]) -> bytes | None:
    """Grouped bars: mean thinking tokens per run, a group per task, a bar per model; unknown: no bar."""
    think, colours = report["thinking_tax"], _colours(report)

    def mean(lab: str, t: dict[str, str]) -> float | None:
        per_task = think[lab]["tasks"].get(t["id"])
        return per_task["thinking_mean"] if per_task else None

    known = lambda lab, t: mean(lab, t) is not None  # noqa: E731
    tasks = [t for t in report["tasks"] if any(known(m["label"], t) for m in report["models"])]
    labels = [m["label"] for m in report["models"] if any(known(m["label"], t) for t in tasks)]
    if not tasks:
        return None
    fig, ax = plt.subplots(figsize=(max(6.4, 1.1 * len(tasks) + 2), 4.2))
    width = 0.8 / len(labels)
    for i, lab in enumerate(labels):
        values = [mean(lab, t) for t in tasks]
        xs = [n + i * width for n, v in enumerate(values) if v is not None]
        ax.bar(xs, [v for v in values if v is not None], width, label=lab, color=colours[lab])
    ax.set_xticks([n + width * (len(labels) - 1) / 2 for n in range(len(tasks))])
    ax.set_xticklabels([t["title"] for t in tasks], rotation=30, ha="right")
    ax.set_ylabel("thinking tokens per run (mean)")
    ax.legend(fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def thinking_tax(report: dict[str, Any]) -> bytes | None:
    """Stacked bars, one per model and variant: generated tokens per run split by the useful share
    (both from the same runs, as in the table), labelled with the effective useful tok/s; a model
    whose split is unknown gets no bar."""
    tax = report["thinking_tax"]
    labels = [m["label"] for m in report["models"]
              if tax[m["label"]]["useful_share"] is not None and tax[m["label"]]["generated_mean"] is not None]
    if not labels:
        return None
    fig, ax = plt.subplots(figsize=(6.8, 0.55 * len(labels) + 1.6))
    ys = list(range(len(labels)))[::-1]  # first model on top
    useful = [tax[lab]["generated_mean"] * tax[lab]["useful_share"] for lab in labels]
    thinking = [tax[lab]["generated_mean"] - u for lab, u in zip(labels, useful)]
    ax.barh(ys, thinking, color="#c44e52", label="thinking")
    ax.barh(ys, useful, left=thinking, color="#4c72b0", label="useful")
    for y, lab, t, u in zip(ys, labels, thinking, useful):
        speed = tax[lab]["effective_tps"]
        note = f"  {speed:.1f} useful tok/s" if speed is not None else ""
        ax.text(t + u, y, note, va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_xlabel(f"tokens generated per run, mean ({report['primary_mode']} runs)")
    ax.set_xlim(right=max(t + u for t, u in zip(thinking, useful)) * 1.45 or 1)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def memory_over_turns(report: dict[str, Any]) -> bytes | None:
    series = report["memory_series"]
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    colours = _colours(report)
    for label, s in series.items():
        ax.plot(s["turns"], [b / GIB for b in s["rss_bytes"]], marker="o", color=colours[label],
                label=f"{label}: {s['task']} run {s['run']} ({s['mode']})")
    ax.set_xlabel("turn")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # turns are whole numbers
    ax.set_ylabel("server peak RSS, GiB")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


FIGURES = {"score_vs_decode": score_vs_decode, "score_vs_memory": score_vs_memory,
           "thinking_per_task": thinking_per_task, "thinking_tax": thinking_tax,
           "memory_over_turns": memory_over_turns, "raw_vs_harness": raw_vs_harness_figure}


def render_figures(report: dict[str, Any]) -> dict[str, bytes]:
    """Every figure that has something to draw, by name."""
    out = {}
    for name, draw in FIGURES.items():
        png = draw(report)
        if png is not None:
            out[name] = png
    return out

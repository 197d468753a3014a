"""The cost side of a score: speed, memory, and what the harness adds over raw runs (the thinking
tax has its own module, thinking_tax.py).

Speed figures (time to first token, decode and prefill tok/s) come from warm turns only: a freshly
started server's first answer pays for compilation and cache set-up, which is load cost, not speed.
A model whose runs shared the server (concurrency > 1) keeps its figures, labelled with that
concurrency: they are not single-stream numbers.
"""

from __future__ import annotations

from typing import Any

from orchestrator.report.data import Loaded, scored, select
from orchestrator.report.stats import mean_known, median, percentile

GIB = 1024**3


def _max_known(values) -> int | None:
    known = [v for v in values if isinstance(v, (int, float))]
    return max(known) if known else None


def performance_section(loaded: Loaded, mode: str, tasks: list[dict[str, str]]) -> dict[str, Any]:
    """Per model: load, ttft, tok/s, peak memory, wall time per task, score per hour and per GiB."""
    out = {}
    for m in loaded.models:
        label = m["label"]
        metas = loaded.meta.get(label, [])
        turns = [t for t in loaded.turns if t["label"] == label]
        warm = [t for t in turns if t.get("warm", True)]
        runs = scored(select(loaded.runs, label, mode))
        passes = sum(bool(r.get("passed")) for r in runs)
        wall_s = sum(r.get("wall_s") or 0.0 for r in runs)
        peak_rss = _max_known([*(t.get("server_peak_rss_bytes") for t in turns),
                               *(r.get("peak_rss_bytes") for r in select(loaded.runs, label)),
                               *(x.get("memory_after_load_bytes") for x in metas)])
        peak_gpu = _max_known(t.get("gpu_used_bytes") for t in turns)
        # A GPU server holds its weights in device memory, which the host RSS does not show: the
        # memory a model costs is the larger of the two (vLLM's figure includes its reservation).
        peak = _max_known([peak_rss, peak_gpu])
        out[label] = {
            "concurrency": m["concurrency"],
            "load_s": median(x.get("load_s") for x in metas),
            "memory_after_load_bytes": _max_known(x.get("memory_after_load_bytes") for x in metas),
            "warm_turns": len(warm),
            "ttft_median_s": median(t.get("ttft_s") for t in warm),
            "ttft_p90_s": percentile((t.get("ttft_s") for t in warm), 90),
            "decode_tps_median": median(t.get("decode_tps") for t in warm),
            "prefill_tps_median": median(t.get("prefill_tps") for t in warm),
            # prefill_tps is null for turns that prefilled too few fresh tokens: say how much was cached.
            "prompt_cached_share": _cached_share(warm),
            "peak_footprint_bytes": _max_known(t.get("server_peak_footprint_bytes") for t in turns),
            "peak_rss_bytes": peak_rss,
            "peak_gpu_bytes": peak_gpu,
            "peak_memory_bytes": peak,
            "wall_s_per_task": {t["id"]: mean_known(r.get("wall_s") for r in select(runs, task=t["id"]))
                                for t in tasks},
            "wall_s_total": wall_s if runs else None,
            "passes": passes,
            "score_per_hour": passes / (wall_s / 3600) if wall_s > 0 else None,
            "score_per_gib": passes / (peak / GIB) if peak else None,
        }
    return out


def _cached_share(turns: list[dict[str, Any]]) -> float | None:
    """Cached prompt tokens over prompt tokens, over the turns that report both."""
    known = [(t["cached_tokens"], t["prompt_tokens"]) for t in turns
             if t.get("cached_tokens") is not None and t.get("prompt_tokens")]
    total = sum(p for _, p in known)
    return min(1.0, sum(c for c, _ in known) / total) if total else None


def _run_tokens(run: dict[str, Any]) -> int | None:
    p, c = run.get("prompt_tokens"), run.get("completion_tokens")
    return None if p is None or c is None else p + c


def _costs(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    return {"turns": mean_known(r.get("turns") for r in runs), "tokens": mean_known(map(_run_tokens, runs)),
            "seconds": mean_known(r.get("wall_s") for r in runs)}


def _rate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    c = sum(bool(r.get("passed")) for r in runs)
    return {"passes": c, "runs": len(runs), "rate": c / len(runs) if runs else None}


def _gap(raw: dict, harness: dict) -> float | None:
    if raw["rate"] is None or harness["rate"] is None:
        return None
    return 100 * (harness["rate"] - raw["rate"])


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def harness_gap_section(loaded: Loaded, tasks: list[dict[str, str]]) -> dict[str, Any]:
    """For models with both raw and harness runs: both scores, the gap in points, and the extra cost.

    Extra turns, tokens (prompt + completion) and seconds are per run: harness mean minus raw mean.
    """
    out = {}
    for m in loaded.models:
        raw = scored(select(loaded.runs, m["label"], "raw"))
        harness = scored(select(loaded.runs, m["label"], "harness"))
        if not raw or not harness:
            continue
        r, h = _rate(raw), _rate(harness)
        per_task = {}
        for t in tasks:
            rt, ht = _rate(select(raw, task=t["id"])), _rate(select(harness, task=t["id"]))
            if rt["runs"] or ht["runs"]:
                per_task[t["id"]] = {"raw": rt, "harness": ht, "gap_pp": _gap(rt, ht)}
        rc, hc = _costs(raw), _costs(harness)
        rounds = [x.get("harness_rounds") for x in harness]
        out[m["label"]] = {
            "raw": r, "harness": h, "gap_pp": _gap(r, h), "tasks": per_task,
            "raw_per_run": rc, "harness_per_run": hc,
            "extra_turns_per_run": _diff(hc["turns"], rc["turns"]),
            "extra_tokens_per_run": _diff(hc["tokens"], rc["tokens"]),
            "extra_seconds_per_run": _diff(hc["seconds"], rc["seconds"]),
            "harness_rounds_mean": mean_known(rounds),
        }
    return out


def memory_series(loaded: Loaded) -> dict[str, Any]:
    """Per model, the memory of its longest run turn by turn (the longest shows the most growth)."""
    out = {}
    for m in loaded.models:
        by_run: dict[tuple, list[dict[str, Any]]] = {}
        for t in loaded.turns:
            if t["label"] == m["label"] and t.get("server_peak_rss_bytes") is not None:
                by_run.setdefault((t.get("task"), t.get("run"), t.get("mode", "raw")), []).append(t)
        if not by_run:
            continue
        (task, run, mode), turns = max(by_run.items(), key=lambda kv: len(kv[1]))
        out[m["label"]] = {"task": task, "run": run, "mode": mode,
                           "turns": [t.get("turn") for t in turns],
                           "rss_bytes": [t["server_peak_rss_bytes"] for t in turns],
                           "gpu_bytes": [t.get("gpu_used_bytes") for t in turns]}
    return out


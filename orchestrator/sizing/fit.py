"""Fitting the speed model's constants per engine on measurements, and checking them on rows left out.

Observations come from the public table (measurements.yaml, each row with its source) and, with
`--results`, from this project's own measured turns. Fits minimise the squared *relative* error of the
seconds a token, with every coefficient kept non-negative (a negative fixed cost or bandwidth share
means nothing physical): the exact non-negative least squares over four unknowns, by trying every
subset of them. Ranges come from leave-one-out errors, so they are what the fit did on rows it did
not see, not what it did on its own rows.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from orchestrator.errors import UserError
from orchestrator.sizing.catalog import MacEntry, find_bin, load_catalog
from orchestrator.sizing.speed import (
    EngineSpeed, Fitted, Hardware, Workload, decode_features, prefill_features,
)
from orchestrator.units import GIB

MEASUREMENTS_PATH = Path(__file__).resolve().parent / "measurements.yaml"
ENGINES = ("mlx", "llamacpp")
RANGE_QUANTILES = (0.05, 0.95)
"""The stated range covers the middle 90% of leave-one-out errors."""
DECODE_FLOOR = (1.0, 1.0, 0.0, 0.0, 0.0)
"""No engine reads weights or the KV cache faster than the memory's peak bandwidth."""
PREFILL_FLOOR = (1.0, 0.0)
"""No engine computes faster than the GPU's peak."""
TG128_CONTEXT = 64
"""llama-bench's tg128 decodes from an empty cache: on average 64 tokens are in it."""


@dataclass(frozen=True)
class Observation:
    """One measured speed of one model on one Mac with one engine."""

    engine: str
    source: str
    mac: str
    model: str
    work: Workload
    hardware: Hardware
    kv_read_bytes: float = 0.0
    decode_tps: float | None = None
    prefill_tps: float | None = None
    weight: float = 1.0
    anomalous: str | None = None
    """Why this row is kept out of fitting (a bug report, say); None for a normal row."""


def _workload(model: dict, row: dict) -> Workload:
    params, active = model["params_b"] * 1e9, model["active_b"] * 1e9
    if row.get("weights_gib"):
        weight_bytes = row["weights_gib"] * GIB * active / params
    else:
        weight_bytes = active * row["bits"] / 8
    return Workload(active_weight_bytes=weight_bytes, active_params=active, moe=bool(model.get("moe")))


def load_public(path: Path = MEASUREMENTS_PATH, entries: list[MacEntry] | None = None) -> list[Observation]:
    """Every row of the public table as an Observation; the Mac's figures come from the catalog."""
    data = yaml.safe_load(path.read_text())
    entries = entries if entries is not None else load_catalog()
    out = []
    for i, row in enumerate(data["rows"]):
        where = f"{path}: rows[{i}]"
        if row["source"] not in data["sources"]:
            raise UserError(f"{where}: source '{row['source']}' is not under `sources:`")
        model = data["models"].get(row["model"])
        if model is None:
            raise UserError(f"{where}: model '{row['model']}' is not under `models:`")
        entry = find_bin(entries, row["chip"], row.get("gpu_cores"))
        if entry is None:
            raise UserError(f"{where}: chip '{row['chip']}' is not in the Mac catalog")
        context = row.get("decode_context", TG128_CONTEXT)
        out.append(Observation(
            engine=row["engine"], source=row["source"], mac=f"{row['chip']} {row.get('gpu_cores', '?')}c",
            model=row["model"], work=_workload(model, row),
            hardware=Hardware(entry.bandwidth_gbs, entry.gpu_tflops),
            kv_read_bytes=(model.get("kv_bytes_per_token") or 0) * context,
            decode_tps=row.get("decode_tps"), prefill_tps=row.get("prefill_tps"),
            anomalous=row.get("anomalous")))
    return out


# ---- non-negative least squares on normal equations ------------------------------------------------

def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    n = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12 * max(1.0, max(abs(x) for r in a for x in r[:-1])):
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= factor * a[col][c]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


def nnls_normal(gram: list[list[float]], rhs: list[float]) -> list[float]:
    """argmin ||Ax - b|| with x >= 0, from AᵀA and Aᵀb: the best feasible least-squares fit over every support."""
    n = len(rhs)
    best, best_cost = [0.0] * n, 0.0
    for size in range(1, n + 1):
        for support in itertools.combinations(range(n), size):
            sub = _solve([[gram[i][j] for j in support] for i in support], [rhs[i] for i in support])
            if sub is None or any(v < 0 for v in sub):
                continue
            x = [0.0] * n
            for i, v in zip(support, sub):
                x[i] = v
            # ||Ax-b||² - ||b||² = xᵀGx - 2xᵀh
            cost = sum(x[i] * gram[i][j] * x[j] for i in range(n) for j in range(n)) - 2 * sum(
                x[i] * rhs[i] for i in range(n))
            if cost < best_cost:
                best, best_cost = x, cost
    return best


def _scaled(features: list[float], seconds: float, floor: tuple[float, ...]) -> tuple[list[float], float]:
    """One row of the relative-error system, with the floors moved to the measured side."""
    rest = 1 - sum(f * c for f, c in zip(features, floor)) / seconds
    return [f / seconds for f in features], rest


def _normal(rows: list[tuple[list[float], float, float]], floor: tuple[float, ...]):
    """Normal equations of relative-error rows (features, seconds measured, weight) above `floor`."""
    n = len(rows[0][0])
    gram = [[0.0] * n for _ in range(n)]
    rhs = [0.0] * n
    for features, seconds, weight in rows:
        scaled, rest = _scaled(features, seconds, floor)
        for i in range(n):
            rhs[i] += weight * scaled[i] * rest
            for j in range(n):
                gram[i][j] += weight * scaled[i] * scaled[j]
    return gram, rhs


def weighted_quantile(values: list[float], weights: list[float], q: float) -> float:
    """The q-quantile of `values` where each counts its weight (linear between midpoints)."""
    pairs = sorted(zip(values, weights))
    total = sum(w for _, w in pairs)
    cumulative, points = 0.0, []
    for value, weight in pairs:
        points.append(((cumulative + weight / 2) / total, value))
        cumulative += weight
    if q <= points[0][0]:
        return points[0][1]
    for (p0, v0), (p1, v1) in zip(points, points[1:]):
        if q <= p1:
            return v0 + (v1 - v0) * (q - p0) / (p1 - p0)
    return points[-1][1]


SMALL_SOURCE_ROWS = 12
"""A source with at most this many rows (one model or a few, on one or two Macs) is held out whole;
a larger table across chips row by row."""


def holdout_groups(sources: list[str]) -> list[list[int]]:
    """Indices to hold out together when checking a fit on rows it did not see."""
    counts: dict[str, int] = {}
    for s in sources:
        counts[s] = counts.get(s, 0) + 1
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        groups.setdefault(s if counts[s] <= SMALL_SOURCE_ROWS else f"{s}#{i}", []).append(i)
    return list(groups.values())


Row = tuple[list[float], float, float, str]
"""(features, seconds measured, weight, source)"""


def fit_rows(rows: list[Row], floor: tuple[float, ...]) -> Fitted:
    """Fit coefficients (each at least its `floor`) and a held-out range on (features, seconds, weight, source) rows.

    The range is the middle 90% of measured/predicted over rows predicted by fits that left their
    source out (holdout_groups), every source counting alike: the spread between models, engines'
    releases and machines, not only the noise inside the biggest table.
    """
    plain = [(f, s, w) for f, s, w, _ in rows]
    gram, rhs = _normal(plain, floor)
    coefficients = [c + f for c, f in zip(nnls_normal(gram, rhs), floor)]
    log_ratios, weights = [], []
    sources = [r[3] for r in rows]
    per_source = {s: sources.count(s) for s in sources}
    for group in holdout_groups(sources):
        if len(rows) - len(group) <= len(rhs):
            continue
        g = [row[:] for row in gram]
        h = rhs[:]
        for i in group:
            features, seconds, weight = plain[i]
            scaled, rest = _scaled(features, seconds, floor)
            for a in range(len(rhs)):
                h[a] -= weight * scaled[a] * rest
                for b in range(len(rhs)):
                    g[a][b] -= weight * scaled[a] * scaled[b]
        held = [c + f for c, f in zip(nnls_normal(g, h), floor)]
        for i in group:
            features, seconds, _ = plain[i]
            predicted = sum(c * f for c, f in zip(held, features))
            if predicted > 0:
                log_ratios.append(math.log(predicted / seconds))  # = ln(measured tps / predicted tps)
                weights.append(1 / per_source[sources[i]])
    if len(log_ratios) >= 5:
        low, high = (math.exp(weighted_quantile(log_ratios, weights, q)) for q in RANGE_QUANTILES)
    else:
        low, high = 0.7, 1.3  # too few rows to measure the spread: a wide, stated guess
    return Fitted(tuple(coefficients), min(low, 1.0), max(high, 1.0), len(rows))


def decode_rows(observations: list[Observation]) -> list[Row]:
    return [(decode_features(o.work, o.hardware, o.kv_read_bytes), 1 / o.decode_tps, o.weight, o.source)
            for o in observations if o.decode_tps and not o.anomalous]


def prefill_rows(observations: list[Observation]) -> list[Row]:
    return [(prefill_features(o.work, o.hardware), 1 / o.prefill_tps, o.weight, o.source)
            for o in observations if o.prefill_tps and o.hardware.fp16_tflops and not o.anomalous]


def fit_engine(engine: str, observations: list[Observation]) -> EngineSpeed:
    mine = [o for o in observations if o.engine == engine]
    decode, prefill = decode_rows(mine), prefill_rows(mine)
    if not decode or not prefill:
        raise UserError(f"no measurements to fit the {engine} speed model on ({MEASUREMENTS_PATH})")
    own = sum(1 for o in mine if o.source == "measured")
    return EngineSpeed(engine=engine, decode=fit_rows(decode, DECODE_FLOOR),
                       prefill=fit_rows(prefill, PREFILL_FLOOR),
                       sources=tuple(dict.fromkeys(o.source for o in mine)), calibrated_turns=own)


@lru_cache(maxsize=1)
def public_speeds() -> dict[str, EngineSpeed]:
    """Each engine's constants fitted on the public table alone (cached: the table ships with the code)."""
    observations = load_public()
    return {engine: fit_engine(engine, observations) for engine in ENGINES}


def calibrated_speeds(measured: list[Observation]) -> dict[str, EngineSpeed]:
    """Constants refitted with this project's measured turns beside the public rows.

    The measured turns of an engine weigh, together, as much as all its public rows: one Mac's own
    runs pull the constants toward what it measured, and every other Mac's prediction moves with
    them, without one machine erasing what the public table says about the others.
    """
    if not measured:
        return public_speeds()
    public = load_public()
    speeds = {}
    for engine in ENGINES:
        own = [o for o in measured if o.engine == engine]
        if not own:
            speeds[engine] = public_speeds()[engine]
            continue
        theirs = [o for o in public if o.engine == engine]
        share = len(theirs) / len(own)
        weighted = [Observation(**{**o.__dict__, "weight": share}) for o in own]
        speeds[engine] = fit_engine(engine, theirs + weighted)
    return speeds

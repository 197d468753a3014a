"""How well the speed model predicts what it was not fitted on: `python -m orchestrator.sizing.validate`.

Every public row is predicted by constants fitted without it:
- a row of another source than llama.cpp's Apple Silicon table: fitted on every other source (the
  table included), so other models, releases, MoE and long contexts are predicted from the rest;
- a row of that table: fitted on every other row of it and the other sources (leave-one-out).
The figures are ratios measured / predicted; "inside" means the measured value fell in the stated
range of a fit that did not see it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from orchestrator.sizing.fit import (
    ENGINES, Observation, decode_rows, fit_engine, holdout_groups, load_public, prefill_rows,
)
from orchestrator.sizing.speed import decode_tps, prefill_tps

TABLE_SOURCE = "llamacpp-4167"


@dataclass(frozen=True)
class HeldOut:
    engine: str
    kind: str
    """decode or prefill"""
    source: str
    mac: str
    model: str
    measured: float
    predicted: float
    low: float
    high: float
    anomalous: str | None = None

    @property
    def ratio(self) -> float:
        return self.measured / self.predicted

    @property
    def inside(self) -> bool:
        return self.low <= self.measured <= self.high


def held_out(observations: list[Observation] | None = None) -> list[HeldOut]:
    observations = observations if observations is not None else load_public()
    out = []
    for engine in sorted({o.engine for o in observations}):
        mine = [o for o in observations if o.engine == engine]
        for group in holdout_groups([o.source for o in mine]):
            train = [o for i, o in enumerate(mine) if i not in group]
            if not decode_rows(train) or not prefill_rows(train):
                continue
            speed = fit_engine(engine, train)
            for i in group:
                o = mine[i]
                if o.decode_tps:
                    p = decode_tps(speed, o.work, o.hardware, o.kv_read_bytes)
                    if p:
                        out.append(HeldOut(engine, "decode", o.source, o.mac, o.model, o.decode_tps,
                                           p.expected, p.low, p.high, o.anomalous))
                if o.prefill_tps:
                    p = prefill_tps(speed, o.work, o.hardware)
                    if p:
                        out.append(HeldOut(engine, "prefill", o.source, o.mac, o.model, o.prefill_tps,
                                           p.expected, p.low, p.high, o.anomalous))
    return out


def summary(rows: list[HeldOut], within: float = 0.15) -> dict:
    """Median ratio, share within `within`, share inside the stated range."""
    if not rows:
        return {"rows": 0}
    return {
        "rows": len(rows),
        "median_ratio": round(statistics.median(r.ratio for r in rows), 3),
        "within": round(sum(abs(r.ratio - 1) <= within for r in rows) / len(rows), 3),
        "inside_range": round(sum(r.inside for r in rows) / len(rows), 3),
        "worst_ratio": round(min((r.ratio for r in rows), key=lambda x: -abs(x - 1)), 3),
    }


def main() -> None:
    rows = held_out()
    for engine in ENGINES:
        for kind, within in (("decode", 0.15), ("prefill", 0.25)):
            mine = [r for r in rows if r.engine == engine and r.kind == kind and not r.anomalous]
            other = [r for r in mine if r.source != TABLE_SOURCE]
            print(f"{engine:8} {kind:7} all {summary(mine, within)}")
            if other and len(other) != len(mine):
                print(f"{'':8} {'':7} not the 7B table {summary(other, within)}")
    for r in rows:
        if r.anomalous:
            print(f"left out of fitting ({r.anomalous}): {r.engine} {r.source} {r.model} measured "
                  f"{r.measured:.1f}, predicted {r.predicted:.1f} (ratio {r.ratio:.2f})")
    print("\nrows outside their range or off by more than 15% (decode) / 25% (prefill):")
    for r in rows:
        limit = 0.15 if r.kind == "decode" else 0.25
        if not r.inside or abs(r.ratio - 1) > limit:
            print(f"  {r.engine:8} {r.kind:7} {r.source:15} {r.mac:12} {r.model:17} measured {r.measured:8.2f}"
                  f" predicted {r.predicted:8.2f} ({r.low:.1f}-{r.high:.1f}) ratio {r.ratio:.2f}")


if __name__ == "__main__":
    main()

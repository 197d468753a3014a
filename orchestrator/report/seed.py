"""The article's published figures (seed_results.yaml), shaped for `report --compare-seed`.

Two tables: the benchmark's passes per task and model, and the series' "Thinking Token Tax" table
(tokens generated, useful tokens, seconds, effective speed on one task). Both are kept as published,
for comparison; a model is matched to ours by its `config` name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SEED_FILE = Path(__file__).parent / "seed_results.yaml"
TIER_ORDER = ("basic", "intermediate", "advanced")


@lru_cache(maxsize=1)
def load_seed() -> dict[str, Any]:
    """The article's published tables (seed_results.yaml)."""
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))


def seed_section() -> dict[str, Any]:
    """The article's score table: passes per task, per tier and in total, per model."""
    seed = load_seed()
    order = [t["id"] for t in seed["tasks"]]
    models = []
    tier_of = {t["id"]: t["tier"] for t in seed["tasks"]}
    for m in seed["models"]:
        passes = dict(zip(order, m["passes"]))
        tiers = {tier: sum(p for task, p in passes.items() if tier_of[task] == tier) for tier in TIER_ORDER}
        models.append({"name": m["name"], "config": m["config"], "passes": passes, "tiers": tiers,
                       "total": sum(m["passes"])})
    tier_runs = {tier: seed["runs"] * sum(t["tier"] == tier for t in seed["tasks"]) for tier in TIER_ORDER}
    return {"source": seed["source"], "runs": seed["runs"], "tasks": len(order), "tier_runs": tier_runs,
            "models": models, "thinking_tax": seed_thinking_tax()}


def seed_thinking_tax() -> dict[str, Any]:
    """The series' thinking-tax table, with the useful share worked out (useful / generated)."""
    table = load_seed()["thinking_tax"]
    models = [{**m, "useful_share": m["useful"] / m["tokens"] if m["tokens"] else None} for m in table["models"]]
    return {"source": table["source"], "cap_tokens": table["cap_tokens"], "models": models}

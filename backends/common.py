"""Small pieces several backends share: the base environment and /tokenize counting."""

from __future__ import annotations

import os
from typing import Any

import httpx

from orchestrator.config import ModelConfig


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

    def environment(self, config: ModelConfig) -> dict[str, str]:
        return server_env(config)

    def model_name(self, config: ModelConfig) -> str:
        return config.name

    def request_extras(self, config: ModelConfig) -> dict[str, Any]:
        # Template switches such as enable_thinking travel with every request.
        if config.chat_template_kwargs:
            return {"chat_template_kwargs": dict(config.chat_template_kwargs)}
        return {}


def vllm_tokenize(base_url: str, model: str, text: str) -> int | None:
    """vLLM's /tokenize (also what a remote vLLM behind `openai` offers)."""
    return post_count(base_url.removesuffix("/v1") + "/tokenize", {"model": model, "prompt": text}, "tokens")

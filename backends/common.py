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

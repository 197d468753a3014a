"""Model servers: one module a backend behind the Protocol in base.py, found through registry.py, and
one lifecycle for all of them in server.py.

    with launch(config, log_path=...) as server:   # started, READY, and stopped on any exit
        server.base_url, server.pid, server.load_s, server.count_tokens(text)
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from orchestrator.config import ModelConfig

from backends.registry import backend_names, get_backend
from backends.server import ModelServer

__all__ = ["ModelServer", "backend_names", "backend_for", "check_installed", "get_backend", "launch"]


def backend_for(config: ModelConfig):
    return get_backend(config.backend)


def check_installed(config: ModelConfig) -> None:
    """UserError (naming the pip install that fixes it) when the config's backend is missing."""
    backend_for(config).check_installed(config)


@contextmanager
def launch(config: ModelConfig, backend: str | None = None, log_path: Path | None = None) -> Iterator[ModelServer]:
    with ModelServer(config.with_backend(backend), log_path) as server:
        yield server

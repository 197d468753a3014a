"""Backend name -> module `backends/<name>.py`, imported lazily (so a Mac never imports vLLM's module
and Linux never MLX's).

Adding a backend is one module with a `BACKEND` object behind the Protocol in base.py, plus its name
and section in the config schema (orchestrator/config/): nothing here changes.
"""

from __future__ import annotations

import importlib

from orchestrator.config import BACKEND_NAMES
from orchestrator.errors import UserError

from backends.base import Backend


def backend_names() -> tuple[str, ...]:
    return BACKEND_NAMES


def get_backend(name: str) -> Backend:
    if name not in BACKEND_NAMES:
        raise UserError(f"backend '{name}' is not one of {', '.join(BACKEND_NAMES)}")
    return importlib.import_module(f"backends.{name}").BACKEND

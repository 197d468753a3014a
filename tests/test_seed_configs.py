"""The five seed model configs and the annotated example: valid, and faithful to MODELS.md."""

from pathlib import Path

import pytest
import yaml

from orchestrator.config import CONFIG_DIR, ModelConfig, load_config
from orchestrator.config.messages import _all_key_paths

SEEDS = ("gemma-4-31b", "devstral-2-123b", "minimax-m2.5", "qwen3-coder-next", "qwen3.5-27b")

# From /work/shared/MODELS.md: vLLM tool parser, reasoning parser, thinking mode.
EXPECTED = {
    "gemma-4-31b": ("gemma4", "gemma4", "optional"),
    "devstral-2-123b": ("mistral", None, "none"),
    "minimax-m2.5": ("minimax_m2", "minimax_m2", "always"),
    "qwen3-coder-next": ("qwen3_coder", None, "none"),
    "qwen3.5-27b": ("qwen3_coder", "qwen3", "default_on"),
}


@pytest.mark.parametrize("name", SEEDS)
def test_seed_config_validates_with_mlx_default_and_vllm_section(name):
    config = load_config(CONFIG_DIR / f"{name}.yaml")
    assert config.name == name
    assert config.backend == "mlx"
    assert config.mlx.model.startswith("mlx-community/") and config.mlx.model.endswith("4bit")
    assert 4.0 < config.mlx.bits < 5.0, "MLX 4-bit with scales is ~4.5 bits a weight"
    tool, reasoning, thinking = EXPECTED[name]
    assert (config.vllm.tool_call_parser, config.vllm.reasoning_parser, config.thinking) == (tool, reasoning, thinking)
    assert config.parameters is not None
    arch = config.architecture
    assert None not in (arch.kv_layers, arch.kv_heads, arch.head_dim), "sizing needs the KV geometry"
    if config.thinking in ("always", "default_on"):
        assert config.sampling.max_tokens >= 8192, "thinking eats max_tokens; leave room"


def test_hybrids_count_only_full_attention_layers():
    coder = load_config(CONFIG_DIR / "qwen3-coder-next.yaml").architecture
    qwen35 = load_config(CONFIG_DIR / "qwen3.5-27b.yaml").architecture
    assert (coder.layers, coder.kv_layers) == (48, 12)
    assert (qwen35.layers, qwen35.kv_layers) == (64, 16)
    gemma = load_config(CONFIG_DIR / "gemma-4-31b.yaml").architecture
    assert gemma.kv_layers + gemma.sliding_layers == gemma.layers and gemma.sliding_window == 1024


def test_trust_remote_code_where_the_recipes_need_it():
    needs = {n for n in SEEDS if load_config(CONFIG_DIR / f"{n}.yaml").vllm.trust_remote_code}
    assert needs == {"minimax-m2.5", "qwen3.5-27b"}


def test_known_weight_sizes_are_carried():
    assert load_config(CONFIG_DIR / "minimax-m2.5.yaml").mlx.weights_gb == 128.7
    assert load_config(CONFIG_DIR / "devstral-2-123b.yaml").mlx.weights_gb == 65


def test_example_validates():
    config = load_config(CONFIG_DIR / "example.yaml")
    assert all(getattr(config, b) is not None for b in ("mlx", "vllm", "llamacpp", "openai"))


def _key_paths(data: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in data.items():
        paths.add(prefix + key)
        if isinstance(value, dict) and value and key not in ("chat_template_kwargs", "env"):
            paths |= _key_paths(value, f"{prefix}{key}.")
        elif isinstance(value, list):  # a list of sections (variants): each item documents its keys
            for item in value:
                if isinstance(item, dict):
                    paths |= _key_paths(item, f"{prefix}{key}.")
    return paths


def test_example_documents_every_field_of_the_schema():
    data = yaml.safe_load((CONFIG_DIR / "example.yaml").read_text())
    missing = set(_all_key_paths(ModelConfig)) - _key_paths(data)
    assert not missing, f"example.yaml lacks {sorted(missing)}"


def test_example_is_not_listed_as_a_model():
    from orchestrator.config import config_files

    assert Path(CONFIG_DIR / "example.yaml") not in config_files()

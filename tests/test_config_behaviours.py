"""Model-config behaviours the run and sweep verbs rely on: --backend picking a section the config
must have, a thinking variant's switch winning over the config's own, --base-url with --model keeping
the config's request shaping, and the name a variant gets from the command line."""

import pytest

from orchestrator.config import ThinkingVariant, parse_config, parse_variant
from orchestrator.errors import UserError

THINKER = {"name": "thinker", "backend": "llamacpp", "thinking": "default_on", "context_length": 8192,
           "chat_template_kwargs": {"enable_thinking": True, "preserve_thinking": True},
           "sampling": {"temperature": 0.6, "top_k": 20, "max_tokens": 2048},
           "llamacpp": {"model": "thinker.gguf"}, "vllm": {"model": "org/thinker", "tool_call_parser": "hermes"}}


def thinker(**changes):
    return parse_config({**THINKER, **changes}, "/configs/thinker.yaml")


def test_backend_picks_another_section_and_refuses_one_the_config_lacks():
    config = thinker()
    assert config.with_backend("vllm").backend == "vllm"
    assert config.with_backend("vllm").section().model == "org/thinker"
    assert config.with_backend(None) is config and config.with_backend("llamacpp") is config
    with pytest.raises(UserError) as err:
        config.with_backend("mlx")
    assert str(err.value) == "/configs/thinker.yaml: no 'mlx:' section; this model can be served with vllm, llamacpp"
    with pytest.raises(UserError, match="backend 'mxl' is not one of mlx, vllm, llamacpp, openai"):
        config.with_backend("mxl")


def test_a_variants_thinking_switch_wins_over_the_configs_and_its_own_kwargs_win_over_both():
    config = thinker()
    off = config.with_variant(ThinkingVariant(name="off", thinking=False))
    assert off.chat_template_kwargs == {"enable_thinking": False, "preserve_thinking": True}
    custom = config.with_variant(ThinkingVariant(name="x", thinking=False,
                                                 chat_template_kwargs={"preserve_thinking": False, "enable_thinking": True}))
    assert custom.chat_template_kwargs == {"enable_thinking": True, "preserve_thinking": False}
    assert [v.name for v in off.variants] == ["off"] and off.path == config.path
    assert off.config_hash() != config.config_hash() != custom.config_hash()


def test_attaching_a_config_to_a_running_server_keeps_its_openai_sections_key_and_extras():
    config = thinker(openai={"base_url": "http://old/v1", "served_model": "thinker:q4", "api_key_env": "KEY",
                             "extra_body": {"keep_alive": "30m"}})
    moved = config.attached_to("http://127.0.0.1:11434/v1")
    assert moved.backend == "openai"
    assert moved.openai.model_dump() == {"base_url": "http://127.0.0.1:11434/v1", "served_model": "thinker:q4",
                                         "api_key_env": "KEY", "bits": None, "weights_gb": None,
                                         "extra_body": {"keep_alive": "30m"}}
    assert config.attached_to("http://h/v1", "other").openai.served_model == "other"  # the command line wins
    assert moved.sampling == config.sampling and moved.context_length == 8192
    assert config.attached_to("http://h/v1", None, 4096).context_length == 4096
    assert moved.path == config.path


@pytest.mark.parametrize("text, budget", [("budget-1", 1), ("budget-4096", 4096), ("budget:300", 300)])
def test_a_budget_variant_caps_thinking_at_exactly_the_number_given(text, budget):
    variant = parse_variant(text)
    assert (variant.name, variant.thinking, variant.budget_tokens) == (f"budget-{budget}", True, budget)


def test_the_history_of_reasoning_defaults_to_both_for_thinkers_and_none_otherwise():
    assert thinker().history_reasoning == "both"
    assert thinker(thinking="none").history_reasoning == "none"
    assert thinker(thinking="always").history_reasoning == "both"
    assert thinker(reasoning_in_history="think_tags").history_reasoning == "think_tags"

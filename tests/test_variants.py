"""Thinking variants: named in a config (`variants:`) or on the sweep command (off, on, budget-N),
each a config of its own (hash, name on disk), all served by one launch."""

from pathlib import Path

import pytest
import yaml

from orchestrator.config import ThinkingVariant, load_config, parse_variant
from orchestrator.errors import UserError
from orchestrator.session.variants import expand_variants, variants_meta

THINKER = {
    "name": "thinker", "backend": "llamacpp", "thinking": "default_on", "context_length": 8192,
    "chat_template_kwargs": {"enable_thinking": True, "preserve_thinking": True},
    "sampling": {"max_tokens": 2048}, "llamacpp": {"model": "thinker.gguf"},
}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "thinker.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("text, name, thinking, budget", [
    ("off", "off", False, None), ("on", "on", True, None), ("ON", "on", True, None),
    ("budget-1024", "budget-1024", True, 1024), ("budget=64", "budget-64", True, 64), ("budget0", "budget-0", True, 0),
])
def test_variants_named_on_the_command_line(text, name, thinking, budget):
    v = parse_variant(text)
    assert (v.name, v.thinking, v.budget_tokens) == (name, thinking, budget)


@pytest.mark.parametrize("text", ["medium", "budget", "budget--5", "budget-x", "of", ""])
def test_an_unknown_variant_is_one_line_naming_the_forms(text):
    with pytest.raises(UserError) as err:
        parse_variant(text)
    assert "\n" not in str(err.value) and "off, on or budget-N" in str(err.value)


def test_a_config_names_its_variants(tmp_path):
    data = {**THINKER, "variants": [{"name": "off", "thinking": False}, {"name": "on"},
                                   {"name": "tight", "budget_tokens": 256, "extra_body": {"n_probs": 0}}]}
    config = load_config(write(tmp_path, data))
    assert [v.name for v in config.variants] == ["off", "on", "tight"]
    runs = expand_variants(config, "thinker", budget_fields=lambda n: {"thinking_budget_tokens": n})
    assert [r.label for r in runs] == ["thinker+off", "thinker+on", "thinker+tight"]
    # each variant: the template switch over the config's own kwargs, the budget the backend's way
    assert runs[0].extra_body == {"chat_template_kwargs": {"enable_thinking": False, "preserve_thinking": True}}
    assert runs[2].extra_body == {"chat_template_kwargs": {"enable_thinking": True, "preserve_thinking": True},
                                  "thinking_budget_tokens": 256, "n_probs": 0}
    hashes = [r.config.config_hash() for r in runs]
    assert len(set(hashes)) == 3 and config.config_hash() not in hashes  # --resume tells them apart
    # stable: the same variant of the same config hashes the same in a later session
    again = expand_variants(load_config(write(tmp_path, data)), "thinker", lambda n: {"thinking_budget_tokens": n})
    assert [r.config.config_hash() for r in again] == hashes
    meta = variants_meta(runs)
    assert [(m["name"], m["label"], m["max_tokens"]) for m in meta] == [
        ("off", "thinker+off", 2048), ("on", "thinker+on", 2048), ("tight", "thinker+tight", 2048)]
    assert meta[0]["config_hash"] == hashes[0]


def test_the_command_lines_variants_replace_the_configs(tmp_path):
    config = load_config(write(tmp_path, {**THINKER, "variants": [{"name": "on"}]}))
    runs = expand_variants(config, "thinker", None, [parse_variant("off"), parse_variant("on")])
    assert [r.variant.name for r in runs] == ["off", "on"]


def test_without_variants_the_config_runs_as_it_is(tmp_path):
    config = load_config(write(tmp_path, THINKER))
    (run,) = expand_variants(config, "thinker")
    assert run.config is config and run.label == "thinker" and run.variant is None and run.extra_body == {}
    assert variants_meta([run]) == []


def test_a_budget_on_a_server_without_one_is_refused_before_launch(tmp_path):
    config = load_config(write(tmp_path, THINKER))
    from backends.registry import get_backend

    for backend in ("mlx", "openai"):  # mlx_lm.server has no budget; an attached server's is unknown
        with pytest.raises(UserError, match="variant .budget-128.: the llamacpp server takes no thinking budget"):
            expand_variants(config, "thinker", get_backend(backend).thinking_budget,
                            [parse_variant("off"), parse_variant("budget-128")])
    assert get_backend("vllm").thinking_budget(128) == {"thinking_token_budget": 128}
    (run,) = expand_variants(config, "thinker", get_backend("llamacpp").thinking_budget, [parse_variant("budget-128")])
    assert run.extra_body["thinking_budget_tokens"] == 128


@pytest.mark.parametrize("variants, words", [
    ([{"name": "off", "thinking": False}, {"name": "off"}], ["variant name 'off' is used twice"]),
    ([{"name": "off", "thinking": False, "budget_tokens": 100}], ["variants.0", "budget_tokens needs thinking: true"]),
    ([{"name": "bad name"}], ["variants.0.name", "'bad name'"]),
    ([{"name": "on", "budget": 100}], ["variants.0.budget", "unknown key", "did you mean 'budget_tokens'"]),
    ([{"name": "on", "budget_tokens": -1}], ["variants.0.budget_tokens", "'-1'"]),
])
def test_bad_variants_are_one_line(tmp_path, variants, words):
    path = write(tmp_path, {**THINKER, "variants": variants})
    with pytest.raises(UserError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message, (word, message)


def test_variants_need_a_thinking_model(tmp_path):
    path = write(tmp_path, {**THINKER, "thinking": "none", "variants": [{"name": "on"}]})
    with pytest.raises(UserError, match="does not think"):
        load_config(path)


def test_applying_a_variant_twice_changes_nothing(tmp_path):
    config = load_config(write(tmp_path, THINKER))
    v = ThinkingVariant(name="off", thinking=False)
    once = config.with_variant(v)
    assert once.with_variant(v).config_hash() == once.config_hash()
    assert once.path == config.path


def test_the_command_lines_variants_are_checked_like_a_files(tmp_path):
    config = load_config(write(tmp_path, THINKER))
    swapped = config.with_variants([parse_variant("off"), parse_variant("budget-64")])
    assert [v.name for v in swapped.variants] == ["off", "budget-64"] and swapped.path == config.path
    plain = load_config(write(tmp_path, {**THINKER, "thinking": "none"}))
    with pytest.raises(UserError, match="thinker.yaml: .*does not think"):
        plain.with_variants([parse_variant("on")])


def test_a_model_that_always_thinks_cannot_be_turned_off(tmp_path):
    path = write(tmp_path, {**THINKER, "thinking": "always", "variants": [{"name": "off", "thinking": False}]})
    with pytest.raises(UserError, match="always thinks .*variant 'off' cannot turn it off; use on or budget-N"):
        load_config(path)
    config = load_config(write(tmp_path, {**THINKER, "thinking": "always"}))
    assert [v.name for v in config.with_variants([parse_variant("on"), parse_variant("budget-512")]).variants] == [
        "on", "budget-512"]

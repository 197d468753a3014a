"""`siliconbench models list`: every shipped config, the five seed models among them."""

import json

from typer.testing import CliRunner

from orchestrator.cli.main import app

SEED_MODELS = {"gemma-4-31b", "devstral-2-123b", "minimax-m2.5", "qwen3-coder-next", "qwen3.5-27b"}


def test_models_list_json_shows_the_seed_models_valid_and_servable_both_ways():
    result = CliRunner().invoke(app, ["models", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    models = {m["name"]: m for m in json.loads(result.output)["models"]}
    assert SEED_MODELS <= set(models)
    for name in SEED_MODELS:
        assert "error" not in models[name], models[name]
        assert {"mlx", "vllm"} <= set(models[name]["backends"]), name
        assert set(models[name]) >= {"name", "path", "backend", "default"}
    assert "example" not in models  # the annotated example documents; it is not a model to run


def test_models_list_table_renders():
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0 and "qwen3.5-27b" in result.output

"""Model configs: strict schema, one-line errors that name the file, the key, the value and the way out."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.config import load_config, parse_config
from orchestrator.errors import UserError

MINIMAL = {
    "name": "tiny",
    "backend": "llamacpp",
    "parameters": {"total_b": 0.135},
    "context_length": 8192,
    "llamacpp": {"model": "tiny.gguf"},
}


def write(tmp_path: Path, data: dict, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def error_of(tmp_path: Path, data: dict) -> str:
    path = write(tmp_path, data)
    with pytest.raises(UserError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message, "a config error is one line"
    assert str(path) in message, "it names the file"
    return message


def test_minimal_config_loads_with_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config.sampling.max_tokens == 4096
    assert config.active_b == 0.135
    assert config.section().model == "tiny.gguf"
    assert config.resolve_path("tpl.jinja") == tmp_path / "tpl.jinja"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"backend": "mxl"}, ["backend", "'mxl'", "mlx", "vllm", "llamacpp", "openai"]),
        ({"sampling": {"temprature": 0.2}}, ["sampling.temprature", "unknown key", "did you mean 'temperature'"]),
        ({"temprature": 0.2}, ["temprature", "unknown key", "did you mean 'sampling.temperature'"]),
        ({"context_length": 10}, ["context_length", "'10'", "greater than or equal to 256"]),
        ({"backend": "vllm"}, ["backend 'vllm' needs a 'vllm:' section"]),
        ({"sampling": {"temperature": "hot"}}, ["sampling.temperature", "'hot'"]),
    ],
)
def test_bad_configs_are_refused_in_one_line(tmp_path, change, words):
    message = error_of(tmp_path, {**MINIMAL, **change})
    for word in words:
        assert word in message, (word, message)


def test_missing_required_key_is_named(tmp_path):
    data = dict(MINIMAL)
    del data["context_length"]
    assert "context_length: required key is missing" in error_of(tmp_path, data)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nbackend: [unclosed\n")
    with pytest.raises(UserError, match=r"broken.yaml: line \d+: not valid YAML"):
        load_config(path)


def test_top_level_must_be_a_mapping(tmp_path):
    with pytest.raises(UserError, match="expected a mapping"):
        parse_config(["a"], tmp_path / "x.yaml")


def test_other_backend_section_is_checked(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(UserError, match="no 'mlx:' section; this model can be served with llamacpp"):
        config.with_backend("mlx")


def test_config_hash_changes_with_what_is_measured(tmp_path):
    a = load_config(write(tmp_path, MINIMAL, "a.yaml"))
    b = load_config(write(tmp_path, {**MINIMAL, "sampling": {"temperature": 0.7}}, "b.yaml"))
    assert a.config_hash() != b.config_hash()
    assert a.config_hash() == load_config(tmp_path / "a.yaml").config_hash()


def test_cli_prints_one_line_and_no_traceback(tmp_path):
    path = write(tmp_path, {**MINIMAL, "backend": "mxl"})
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli.main", "run", "--model", str(path)],
                          capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "backend: 'mxl' is not one of" in lines[0], proc.stderr

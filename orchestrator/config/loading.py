"""Reading a model config file (or a name in model_configs/) into a ModelConfig, with one-line errors
naming the file, the key path, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestrator.config.model import ModelConfig, parse_config
from orchestrator.errors import UserError


def load_config(path: str | Path) -> ModelConfig:
    """Read and validate one model config; any problem is a one-line UserError."""
    p = Path(path)
    if not p.exists():
        found = resolve_config_name(str(path))
        if found is None:
            raise UserError(f"{path}: no such model config; `siliconbench models list` shows the known ones")
        p = found
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{p}:{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    return parse_config(data, p)


CONFIG_DIR = Path(__file__).resolve().parents[2] / "model_configs"
DEFAULT_CONFIG_NAME = "smollm2-135m"


def config_files() -> list[Path]:
    """Every shipped model config (the annotated example is documentation, not a model)."""
    return sorted(p for p in CONFIG_DIR.glob("*.yaml") if p.stem != "example")


def resolve_config_name(name: str) -> Path | None:
    """A bare name such as `qwen3.5-27b` finds model_configs/qwen3.5-27b.yaml."""
    candidate = CONFIG_DIR / f"{name}.yaml"
    return candidate if candidate.exists() else None


def default_config_path() -> Path:
    return CONFIG_DIR / f"{DEFAULT_CONFIG_NAME}.yaml"

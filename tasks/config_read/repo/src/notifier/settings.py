"""Loads config/defaults.toml, then overlays config/<environment>.toml on top of it."""

import os
import tomllib
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def load(environment: str | None = None) -> dict:
    environment = environment or os.environ.get("NOTIFIER_ENV", "production")
    with open(CONFIG_DIR / "defaults.toml", "rb") as f:
        settings = tomllib.load(f)
    env_file = CONFIG_DIR / f"{environment}.toml"
    if env_file.exists():
        with open(env_file, "rb") as f:
            settings = _merge(settings, tomllib.load(f))
    return settings

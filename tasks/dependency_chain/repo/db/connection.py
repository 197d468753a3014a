"""Database connection settings and the shared connection."""

import tomllib
from pathlib import Path

from . import driver

CONFIG_FILE = Path(__file__).resolve().parents[1] / "config" / "database.toml"


def load_settings() -> dict:
    with open(CONFIG_FILE, "rb") as f:
        return tomllib.load(f)["database"]


def get_connection():
    settings = load_settings()
    return driver.connect(host=settings["host"], port=int(settings["port"]), dbname=settings["name"],
                          user=settings["user"], connect_timeout=settings.get("connect_timeout_s", 5))

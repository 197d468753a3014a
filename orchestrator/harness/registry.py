"""Harness names -> adapter modules, imported lazily; where each harness is installed.

`scripts/install.sh --harnesses` installs every harness at its pinned version under one prefix
(SILICONBENCH_HARNESS_PREFIX, default ~/.local/share/siliconbench/harnesses); one found on PATH is
used when the prefix has none.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from types import ModuleType

from orchestrator.errors import UserError

HARNESSES = {"claude-code": "claude_code", "opencode": "opencode", "mini-swe-agent": "mini_swe_agent"}
BUILTIN_MODES = {"raw": "the article's benchmark: the model calls our four tools, no feedback",
                 "feedback": "our own loop that feeds the visible check's failure back (--mode harness)"}
INSTALL_HINT = "bash scripts/install.sh --harnesses"


def prefix() -> Path:
    return Path(os.environ.get("SILICONBENCH_HARNESS_PREFIX")
                or Path.home() / ".local/share/siliconbench/harnesses")


def names() -> list[str]:
    return list(BUILTIN_MODES) + list(HARNESSES)


def get(name: str) -> ModuleType:
    if name not in HARNESSES:
        raise UserError(f"--harness '{name}' is not one of {', '.join(names())}")
    return importlib.import_module(f"orchestrator.harness.{HARNESSES[name]}")


def install_command(adapter: ModuleType, where: str = "$PREFIX") -> str:
    """The shell command that installs one harness at its pinned version under the prefix."""
    if adapter.installer == "npm":
        return f"npm install -g --prefix {where} {adapter.package}@{adapter.version}"
    venv = f"{where}/{adapter.name}"
    return f"python3 -m venv {venv} && {venv}/bin/pip install {adapter.package}=={adapter.version}"


def locate(adapter: ModuleType) -> Path:
    """The harness's executable, or a one-line error naming the command that installs it."""
    candidate = prefix() / adapter.executable
    if candidate.exists():
        return candidate
    found = shutil.which(Path(adapter.executable).name)
    if found:
        return Path(found)
    raise UserError(f"harness {adapter.name} {adapter.version} is not installed (looked in {candidate} and on "
                    f"PATH): install it with `{INSTALL_HINT}` (or `{install_command(adapter, str(prefix()))}`)")


def check_context(adapter: ModuleType, model: str, context_tokens: int | None) -> None:
    """Refuse before the run a harness whose own prompt cannot fit the model's window."""
    if context_tokens is not None and context_tokens < adapter.min_context_tokens:
        raise UserError(f"{model} has a {context_tokens}-token context, and {adapter.name} needs at least "
                        f"{adapter.min_context_tokens} (its own prompt and tools come first): use a config with a "
                        f"larger context_length, or --harness mini-swe-agent")


if __name__ == "__main__":  # scripts/install-harnesses.sh reads the pinned versions from here
    for harness in HARNESSES:
        a = get(harness)
        print(a.installer, a.name, a.package, a.version)

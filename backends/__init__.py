"""Model servers: one module a backend behind the small interface in base.py, imported lazily (so a Mac
never imports vLLM's module and Linux never touches MLX unless asked).

    with launch(config, log_path=...) as server:   # started, READY, and stopped on any exit
        server.base_url, server.pid, server.load_s, server.count_tokens(text)
"""

from __future__ import annotations

import importlib
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from orchestrator.config import BACKEND_NAMES, ModelConfig
from orchestrator.errors import UserError

from backends.base import Backend, RunningServer, die_with_parent, free_port, stop_process_group, wait_ready

_MODULES = {"llamacpp": "backends.llamacpp", "mlx": "backends.mlx", "vllm": "backends.vllm",
            "openai": "backends.openai"}


def backend_names() -> tuple[str, ...]:
    return BACKEND_NAMES


def get_backend(name: str) -> Backend:
    if name not in _MODULES:
        raise UserError(f"backend '{name}' is not one of {', '.join(_MODULES)}")
    return importlib.import_module(_MODULES[name]).BACKEND


def check_installed(config: ModelConfig) -> None:
    """UserError (naming the pip install that fixes it) when the config's backend is missing."""
    get_backend(config.backend).check_installed(config)


@contextmanager
def launch(config: ModelConfig, backend: str | None = None, log_path: Path | None = None) -> Iterator[RunningServer]:
    config = config.with_backend(backend)
    impl = get_backend(config.backend)
    impl.check_installed(config)
    if config.backend == "openai":
        with impl.attach(config) as server:
            yield server
        return
    section = config.section()
    log_path = Path(log_path or f"{config.name}-server.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = impl.build_command(config, port)
    base_url = f"http://127.0.0.1:{port}/v1"
    model = impl.model_name(config)
    extras = impl.request_extras(config)
    started = time.monotonic()
    with open(log_path, "ab") as log:
        # Own process group: stopping it reaches every process the server started.
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=impl.environment(config), start_new_session=True,
                                preexec_fn=die_with_parent())
    try:
        wait_ready(proc, base_url, model, started + section.startup_timeout_s, log_path, command, started, extras)
        server = RunningServer(
            backend=config.backend, base_url=base_url, model_name=model, pid=proc.pid,
            load_s=round(time.monotonic() - started, 3), version=impl.server_version(base_url, command),
            command=command, process=proc, _extras=extras,
            _tokenize=(lambda text: impl.tokenize(base_url, model, text)) if impl.has_tokenize else None)
        yield server
    finally:
        stop_process_group(proc)

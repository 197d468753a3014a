"""The one server lifecycle: start (launch or attach), ready, restart, stop, for every backend.

A launched server owns its process group and writes to its log file (never a pipe nobody reads). A stop
SIGTERMs the group and waits for the WHOLE tree, not just the first process, because vLLM's workers
still release their shared memory after the API process has exited; only what is left after the grace
period is SIGKILLed, and then the `/dev/shm` segments that the server's own processes had mapped are
removed, so nothing of the server remains. An attached server (somebody else's) is only health-checked.

    with ModelServer(config, log_path) as server:   # started and READY, stopped on any exit
        server.base_url, server.pid, server.load_s, server.restart("died"), server.restarts
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from orchestrator.config import ModelConfig
from orchestrator.errors import InfraError, UserError

from backends.base import Backend, die_with_parent, free_port, http_ok, wait_ready
from backends.registry import get_backend

PORT_ATTEMPTS = 3
"""Starts on a fresh port when another program took the one picked for the server."""
STOP_GRACE_S = 20.0
"""How long a stopping server may take to clean up after SIGTERM before it is killed."""
KILL_WAIT_S = 30.0
"""SIGKILL cannot be refused, but a big process takes a while to be torn down on a loaded machine."""


@dataclass
class Restart:
    at: str
    reason: str


class ModelServer:
    """A model server for one config: launched by us (process group, log) or attached (health only)."""

    def __init__(self, config: ModelConfig, log_path: Path | None = None, stop_grace_s: float | None = None):
        self.config = config
        self.backend = config.backend
        """The backend's name, as in the config."""
        self.impl: Backend = get_backend(config.backend)
        self.log_path = Path(log_path or f"{config.name}-server.log")
        self.stop_grace_s = stop_grace_s
        self.restarts: list[Restart] = []
        self.process: subprocess.Popen | None = None
        self.command: list[str] | None = None
        self.base_url = ""
        self.model_name = ""
        self.api_key: str | None = None
        self.load_s: float | None = None
        self.version: str | None = None
        self._extras: dict[str, Any] = {}

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "ModelServer":
        config, impl = self.config, self.impl
        impl.check_installed(config)
        self._extras = impl.request_extras(config)
        if not impl.launches:
            attached = impl.attach(config)
            self.base_url, self.model_name, self.api_key = attached.base_url, attached.model_name, attached.api_key
            self.version = impl.server_version(self.base_url, [])
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.model_name = impl.model_name(config)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            # The port is picked here and passed in; another program can take it before our server
            # binds it (a race no picker avoids): then we start again on another port.
            port = free_port()
            started = time.monotonic()
            try:
                self._launch(port, started)
                break
            except InfraError:
                if attempt == PORT_ATTEMPTS or not self._port_was_taken(port):
                    raise
        return self._ready(started)

    def _launch(self, port: int, started: float) -> None:
        impl, section = self.impl, self.config.section()
        self.command = impl.build_command(self.config, port)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        with open(self.log_path, "ab") as log:
            # Own process group: stopping it reaches every process the server started.
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=impl.environment(self.config), start_new_session=True, preexec_fn=die_with_parent())
        try:
            wait_ready(self.process, self.base_url, self.model_name, started + section.startup_timeout_s,
                       self.log_path, self.command, started, self._extras)
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _port_was_taken(port: int) -> bool:
        """After a failed start: does another program listen on the port we gave our server?"""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            return probe.connect_ex(("127.0.0.1", port)) == 0

    def _ready(self, started: float) -> "ModelServer":
        self.load_s = round(time.monotonic() - started, 3)
        self.version = self.impl.server_version(self.base_url, self.command)
        return self

    def restart(self, reason: str) -> None:
        """Stop and start again (a launched server only); the restart is recorded with its reason."""
        if not self.launched:
            raise UserError(f"{self.config.name}: an attached server is not ours to restart")
        self.restarts.append(Restart(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), reason))
        self.stop()
        self.start()

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None:
            stop_process_tree(proc, STOP_GRACE_S if self.stop_grace_s is None else self.stop_grace_s)

    def __enter__(self) -> "ModelServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- what the runner asks -----------------------------------------------------------------
    @property
    def launched(self) -> bool:
        return self.impl.launches

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def is_alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        if self.launched:
            return False
        return http_ok(f"{self.base_url}/models")

    def request_extras(self) -> dict[str, Any]:
        return dict(self._extras)

    def count_tokens(self, text: str) -> int | None:
        if not self.impl.has_tokenize:
            return None
        return self.impl.tokenize(self.base_url, self.model_name, text)

    def server_metrics(self) -> dict[str, Any]:
        """The backend's own figures (vLLM's KV-cache use...), {} where it has none."""
        return self.impl.server_metrics(self.base_url) if self.base_url else {}

    def chat_template_text(self) -> str | None:
        return self.impl.chat_template_text(self.config, self.base_url)


def shm_segments_of(pids: list[int]) -> set[str]:
    """Files under /dev/shm that these processes have mapped (Linux; empty elsewhere)."""
    found: set[str] = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as maps:
                for line in maps:
                    path = line.rstrip("\n").split(maxsplit=5)[5:] or [""]
                    name = path[0].removesuffix(" (deleted)")
                    if name.startswith("/dev/shm/"):
                        found.add(name)
        except (OSError, IndexError):
            continue
    return found


def stop_process_tree(proc: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM the group, wait for the whole tree within the grace period, SIGKILL what is left (also
    descendants that left the group), then remove the shared-memory segments the tree had mapped."""
    try:
        tree = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        tree = []
    segments = shm_segments_of([p.pid for p in tree])
    descendants = tree[1:]
    deadline = time.monotonic() + grace_s
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    # The first process may be gone while its workers still clean up: give them the rest of the grace.
    _, alive = psutil.wait_procs(descendants, timeout=max(0.0, deadline - time.monotonic()))
    if alive or proc.poll() is None:
        _signal_group(proc.pid, signal.SIGKILL)
        for p in alive:  # grandchildren that started their own session escape killpg
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=KILL_WAIT_S)
        try:
            proc.wait(timeout=KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for name in segments:
        try:
            os.unlink(name)
        except OSError:  # already released by its owner, as it should be
            pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass

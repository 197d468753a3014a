"""What every harness adapter provides, and what the runner hands it.

An adapter is one file: the pinned version and how to install it, the environment and config files
of one headless run (telemetry and update checks off, a fresh HOME), the command line, and a parser
of the harness's own summary (turns, tokens, how it ended). The runner does the rest the same way for
every harness: sandbox, metering proxy, wall-clock limit, grading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

ENDINGS = ("answer", "max_turns", "time_limit", "harness_error", "infra_error")
"""answer: the harness finished on its own; max_turns: its own turn limit; time_limit: our wall clock;
harness_error: it crashed or could not talk to the model; infra_error: the model server failed."""


@dataclass
class HarnessRequest:
    prompt: str
    """The task prompt, given as the user's request."""
    workdir: Path
    """The fresh fixture copy; the harness starts there."""
    state: Path
    """A fresh HOME / state folder for this run only."""
    base_url: str
    """The metering proxy as the harness reaches it, without /v1 (http://127.0.0.1:PORT)."""
    model: str
    """The model name the server expects."""
    max_turns: int
    """Passed to the harness's own turn limit where it has one."""
    max_tokens: int = 4096


@dataclass
class Invocation:
    argv: list[str]
    env: dict[str, str]
    files: dict[Path, str] = field(default_factory=dict)
    """Config files to write (under the state folder) before the harness starts."""


@dataclass
class HarnessOutcome:
    ended: str
    """One of ENDINGS."""
    turns: int | None = None
    """Turns as the harness counts them (its own summary), None when it did not say."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    final_answer: str | None = None
    detail: str | None = None
    """Why it ended, in the harness's words, when it did not finish normally."""


class Harness(Protocol):
    name: str
    version: str
    """The pinned version that `scripts/install.sh --harnesses` installs."""
    api: str
    """Wire format it speaks to the model: chat, messages or responses."""
    package: str
    """Its package in the registry of `installer`."""
    installer: str
    """npm (installed under the harness prefix) or pip (in a venv of its own there)."""
    executable: str
    """Relative to the harness prefix (bin/claude), where the install script puts it."""
    leftovers: tuple[str, ...]
    """Globs, relative to the workspace, of files the harness itself leaves (state, caches): not graded."""
    tool_ops: dict[str, str]
    """Its tool names -> read, write, search or bash: how its calls count for the process checks."""
    path_args: tuple[str, ...]
    """Argument names that hold a file path in its tool calls."""
    min_context_tokens: int
    """The smallest context window it can work in: its own prompt and tools come first."""

    def invocation(self, req: HarnessRequest, executable: Path) -> Invocation: ...

    def parse(self, stdout: str, exit_code: int | None, state: Path) -> HarnessOutcome: ...


def quiet_env(state: Path) -> dict[str, str]:
    """What every harness gets: a HOME of its own, no colour, no pager, no telemetry."""
    return {"HOME": str(state), "XDG_CONFIG_HOME": str(state / ".config"), "XDG_CACHE_HOME": str(state / ".cache"),
            "XDG_DATA_HOME": str(state / ".local/share"), "XDG_STATE_HOME": str(state / ".local/state"),
            "TMPDIR": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "TERM": "dumb",
            "NO_COLOR": "1", "PAGER": "cat", "GIT_PAGER": "cat", "SHELL": "/bin/bash", "CI": "1",
            "DO_NOT_TRACK": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

"""Shared pieces of the sandbox tests: a workspace and its home, the no-sandbox 'machine', a python
command, a directory listing that a test scripts (an entry that vanished, a folder it can't list), and
a stand-in for the sandbox that records what it was asked to run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from orchestrator.workspace import isolation
from orchestrator.workspace.sandbox import Limits, SandboxResult


@pytest.fixture
def dirs(tmp_path):
    ws, home = tmp_path / "ws", tmp_path / "home"
    ws.mkdir()
    home.mkdir()
    return ws, home


@pytest.fixture
def unsafe(monkeypatch):
    """No sandbox on this 'machine', and the user passed --unsafe-no-sandbox."""
    monkeypatch.setattr(isolation, "detect", lambda: ("none", "scripted: no sandbox"))
    monkeypatch.setenv(isolation.UNSAFE_ENV, "1")


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


class Listing:
    """What `os.scandir` returns, over the entries a test chose: iterable inside a `with`."""

    def __init__(self, entries):
        self.entries = entries

    def __enter__(self):
        return iter(self.entries)

    def __exit__(self, *exc):
        return False


class Vanished:
    """A directory entry whose stat fails: it vanished between the listing and the look."""

    def __init__(self, entry):
        self.path, self.name = entry.path, entry.name

    def stat(self, follow_symlinks=True):
        raise FileNotFoundError(self.path)


def awkward_scandir(monkeypatch, locked: str = "z_locked", vanished: str = "0_vanished") -> None:
    """os.scandir that refuses to list folders named `locked` and lists entries by name, the one named
    `vanished` gone by the time it is looked at: a walk must go on past both."""
    real = os.scandir

    def scandir(path):
        if os.fspath(path).endswith(locked):  # listed last, so a stack walks it first
            raise PermissionError(path)
        entries = sorted(real(path), key=lambda e: e.name)
        return Listing([Vanished(e) if e.name == vanished else e for e in entries])

    monkeypatch.setattr(os, "scandir", scandir)


class SandboxRecorder:
    """Stands in for run_contained: records each argv and answers with `answer`."""

    def __init__(self, answer: SandboxResult | None = None):
        self.answer = answer or SandboxResult(0, "fine\n")
        self.calls: list[tuple[list[str], Path, Path, Limits | None]] = []

    def __call__(self, argv, cwd, home, limits=None):
        self.calls.append((list(argv), cwd, home, limits))
        return self.answer

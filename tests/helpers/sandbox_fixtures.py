"""Shared pieces of the sandbox tests: a workspace and its home, the no-sandbox 'machine', a python
command, and a directory listing that a test scripts (an entry that vanished, a folder it can't list)."""

from __future__ import annotations

import sys

import pytest

from orchestrator.workspace import isolation


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

"""The model's change as SWE-bench takes it: a diff of source and test files against the fixture, and
nothing else the workspace holds.

Left out, whatever the model did: bytecode and caches (`__pycache__`, `.pyc`, `.pytest_cache`),
symlinks, FIFOs, sockets, devices, hard-linked files, anything under the grader's `_hidden_tests/`,
pytest and interpreter configuration (`conftest.py`, `pytest.ini`, `pyproject.toml`, `*.pth`,
`sitecustomize.py`...) unless the task's `allowed_changes` names it, files the task does not let the
model change (new tests excepted), and new top-level modules that would shadow an installed one
(`pytest.py`, `json.py`). Reading never follows a link and never blocks; the walk, the number of
files and their size are bounded.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SKIP_PARTS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".venv", "venv"}
BYTECODE = {".pyc", ".pyo"}
CONFIG_NAMES = {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", "setup.py",
                "sitecustomize.py", "usercustomize.py", ".pytest.ini"}
CONFIG_SUFFIXES = {".pth", ".ini", ".cfg"}
HIDDEN_DIR = "_hidden_tests"
MAX_WALK_ENTRIES = 20_000
MAX_CHANGED_FILES = 300
MAX_FILE_BYTES = 1 * 2**20
MAX_TOTAL_BYTES = 8 * 2**20


class ChangeTooLarge(Exception):
    """The workspace is past the grader's bounds: the run fails, quickly, with this message."""


@dataclass
class Change:
    files: dict[str, bytes] = field(default_factory=dict)
    """New or changed files to write over the fixture, by POSIX path relative to the repo."""
    deleted: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """What the diff left out, with why (for the check's detail)."""


def _walk(root: Path) -> dict[str, os.stat_result]:
    """Every entry under root by relative path (lstat: links are not followed), bounded."""
    out: dict[str, os.stat_result] = {}
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.name in SKIP_PARTS:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            out[rel] = st
            if len(out) > MAX_WALK_ENTRIES:
                raise ChangeTooLarge(f"the workspace holds over {MAX_WALK_ENTRIES} files and folders")
            if stat.S_ISDIR(st.st_mode):
                stack.append(rel)
    return out


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The file's bytes if it is still a plain, singly-linked file of at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or st.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def is_config(rel: str) -> bool:
    p = PurePosixPath(rel)
    return p.name in CONFIG_NAMES or p.suffix in CONFIG_SUFFIXES


def is_test_file(rel: str) -> bool:
    p = PurePosixPath(rel)
    return p.suffix == ".py" and (p.name.startswith("test_") or p.stem.endswith("_test")) and len(p.parts) > 1


def _shadows_installed(rel: str, fixture: set[str]) -> bool:
    top = PurePosixPath(rel).parts[0]
    name = top[:-3] if top.endswith(".py") else top
    if not name.isidentifier() or any(f == top or f.startswith(top + "/") for f in fixture):
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def why_left_out(rel: str, allowed: list[str] | None, fixture: set[str]) -> str | None:
    """None when the diff may carry this path, else the reason it does not."""
    parts = PurePosixPath(rel).parts
    if parts[0] == HIDDEN_DIR:
        return "the grader's own folder"
    if PurePosixPath(rel).suffix in BYTECODE:
        return "bytecode"
    matches = allowed is not None and any(fnmatch.fnmatch(rel, g) for g in allowed)
    if is_config(rel):
        return None if matches else "configuration the task does not let the model change"
    if _shadows_installed(rel, fixture):
        return "a new top-level module that would shadow an installed one"
    if allowed is None or matches or is_test_file(rel):
        return None
    return "a file the task does not let the model change"


def collect_change(fixture: Path, workspace: Path, allowed: list[str] | None) -> Change:
    before, after = _walk(fixture), _walk(workspace)
    fixture_files = {r for r, st in before.items() if stat.S_ISREG(st.st_mode)}
    change, total = Change(), 0
    for rel in sorted(after):
        st = after[rel]
        if stat.S_ISDIR(st.st_mode):
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            change.ignored.append(f"{rel} (not a plain file)")
            continue
        data = _read_regular(workspace / rel, MAX_FILE_BYTES)
        if data is None:
            change.ignored.append(f"{rel} (unreadable, special or over {MAX_FILE_BYTES // 2**20} MB)")
            continue
        if rel in fixture_files and _read_regular(fixture / rel, MAX_FILE_BYTES * 16) == data:
            continue
        why = why_left_out(rel, allowed, fixture_files)
        if why:
            change.ignored.append(f"{rel} ({why})")
            continue
        total += len(data)
        if len(change.files) >= MAX_CHANGED_FILES or total > MAX_TOTAL_BYTES:
            raise ChangeTooLarge(f"the change is over {MAX_CHANGED_FILES} files or {MAX_TOTAL_BYTES // 2**20} MB")
        change.files[rel] = data
    for rel in sorted(fixture_files - set(after)):
        if why_left_out(rel, allowed, fixture_files) is None:
            change.deleted.append(rel)
    return change


def apply_change(change: Change, copy: Path) -> None:
    """Writes the change over a fresh fixture copy (trusted paths: each was checked to stay inside)."""
    for rel in change.deleted:
        target = copy / rel
        if target.is_file() and not target.is_symlink():
            target.unlink()
    for rel, data in change.files.items():
        target = copy / rel
        for parent in reversed(target.relative_to(copy).parents):
            folder = copy / parent
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                folder.unlink()  # a fixture file replaced by a folder of the same name
            folder.mkdir(exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            continue  # a folder in the fixture, a file in the workspace: keep the fixture's
        target.write_bytes(data)

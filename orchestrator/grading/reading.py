"""Did the model see a file? Yes when some tool output carried its content, whatever the tool.

`read_file config/production.toml`, `cat ./config/production.toml`, `grep max_retries config/*.toml` and
`search_code retries` all count once their output holds a line that only that file has. The path a
model typed is never compared as a string: `./config/x.toml` and `config//x.toml` are the same file.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from orchestrator.trajectory import ToolEvent
from orchestrator.workspace.workspace import SKIP_DIRS

MIN_LINE_CHARS = 6
MAX_FILES_SCANNED = 500


@dataclass
class Sighting:
    seen: bool
    detail: str


def normalise_path(path: str) -> str:
    """'./config//x.toml' -> 'config/x.toml'."""
    return posixpath.normpath(path.strip().replace("\\", "/")).lstrip("/") if path else ""


def distinctive_lines(repo: Path, rel: str) -> set[str]:
    """Stripped lines of `rel` long enough to mean something and found in no other file of the repo."""
    target = repo / rel
    if not target.is_file():
        return set()
    mine = {ln.strip() for ln in target.read_text(errors="replace").splitlines()}
    mine = {ln for ln in mine if len(ln) >= MIN_LINE_CHARS and any(c.isalnum() for c in ln)}
    others = sorted(p for p in repo.rglob("*") if p.is_file() and p != target
                    and not SKIP_DIRS & set(p.relative_to(repo).parts))[:MAX_FILES_SCANNED]
    for other in others:
        try:
            mine -= {ln.strip() for ln in other.read_text(errors="strict").splitlines()}
        except (UnicodeDecodeError, OSError):
            continue
    return mine


def file_was_seen(repo: Path, rel: str, events: list[ToolEvent], read_paths: set[str]) -> Sighting:
    """`read_paths`: paths the workspace logged as read (read_file, cat/head/tail), as typed. They
    decide only for a file with no line of its own; otherwise the output must have carried one."""
    rel = normalise_path(rel)
    lines = distinctive_lines(repo, rel)
    for n, event in enumerate(events, 1):
        if event.malformed or event.error or event.name == "write_file":
            continue
        carried = sorted(ln for ln in lines if ln in event.result)
        if carried:
            return Sighting(True, f"call {n} ({event.name}) showed {rel}: {carried[0]!r}")
    if not lines and rel in {normalise_path(p) for p in read_paths if p}:
        return Sighting(True, f"read {rel} through a tool")
    return Sighting(False, f"no tool output carried the content of {rel}")

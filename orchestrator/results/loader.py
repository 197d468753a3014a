"""The one reader of results folders: every report, the sizing and the resume logic read through it.

Rules, once: a torn last line (crash mid-write) is skipped; every other line must match the record
schema (records.py: typed, unknown fields refused), else a one-line error naming the file, the line and
the field; a task run recorded twice (a retry, a resume, two folders) counts once, the last one wins; a
run's turns restarted from turn 1 (a retry) replace the earlier attempt's turns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.errors import UserError
from orchestrator.results.records import RunRecord, TurnRecord, is_infra_error, read_jsonl, run_key

__all__ = ["Results", "check_folder", "is_infra_error", "load_results", "read_metas", "run_key"]


@dataclass
class Results:
    """Records of one or more results folders after dedup; each row carries the `folder` it came from."""

    sources: list[str]
    runs: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    """Every models/<model>/meta.json, with `model` (the folder's name if absent) and `folder` set."""


def check_folder(root: Path) -> None:
    if not root.is_dir():
        raise UserError(f"{root}: no such folder; give a results folder (it holds runs.jsonl)")
    if not (root / "runs.jsonl").exists() and not (root / "turns.jsonl").exists():
        raise UserError(f"{root}: no runs.jsonl or turns.jsonl here; is it a results folder?")


def validated(path: Path, schema: type[BaseModel]) -> list[dict[str, Any]]:
    """The file's records checked against `schema`, defaults filled in."""
    rows = []
    for number, row in enumerate(read_jsonl(path), 1):
        try:
            rows.append(schema.model_validate(row).model_dump(mode="json"))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(record)"
            raise UserError(f"{path}: record {number}: field '{where}': {first['msg']} "
                            f"(value {str(first.get('input'))[:60]!r}); was it written by another "
                            "siliconbench version?") from None
    return rows


def read_metas(root: Path) -> list[dict[str, Any]]:
    metas = []
    for path in sorted(root.glob("models/*/meta.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a torn meta.json costs that model its snapshot, not the whole report
        if isinstance(meta, dict):
            meta.setdefault("model", path.parent.name)
            meta["folder"] = str(root)
            metas.append(meta)
    return metas


def load_results(dirs: list[Path | str]) -> Results:
    """Read, check and dedup the folders; a folder that is not a results folder is a one-line UserError."""
    if not dirs:
        raise UserError("give at least one results folder")
    roots = [Path(d) for d in dirs]
    for root in roots:
        check_folder(root)
    runs: dict[tuple, dict[str, Any]] = {}
    turns: dict[tuple, list[dict[str, Any]]] = {}
    metas: list[dict[str, Any]] = []
    for root in roots:
        for row in validated(root / "runs.jsonl", RunRecord):
            row["folder"] = str(root)  # where its transcript path is relative to
            runs.pop(run_key(row), None)  # re-insert, so dict order is the order of the winners
            runs[run_key(row)] = row
        for row in validated(root / "turns.jsonl", TurnRecord):
            row["folder"] = str(root)
            attempt = turns.setdefault(run_key(row), [])
            if attempt and row.get("turn", 0) <= attempt[-1].get("turn", 0):
                attempt.clear()  # numbering restarted: a retry or a resume; its turns replace the old
            attempt.append(row)
        metas.extend(read_metas(root))
    return Results(sources=[str(r) for r in roots], runs=list(runs.values()),
                   turns=[t for attempt in turns.values() for t in attempt], metas=metas)

"""A config's validation error as one line: the file, the key path, the value and what is allowed, with a
"did you mean" for a misspelt key or one put at the wrong level."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Keys allowed at `loc` (the parent of an unknown key), found by walking the schema."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ()) or ()
        nested = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            return []
        current = nested[0]
    return sorted(getattr(current, "model_fields", {}))


def _all_key_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        paths.append(prefix + name)
        args = getattr(field.annotation, "__args__", ()) or ()
        for sub in (field.annotation, *args):
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                paths += _all_key_paths(sub, f"{prefix}{name}.")
    return paths


def one_line(schema: type[BaseModel], path: Path | str, err: ValidationError) -> str:
    """The first validation problem as one line: file, key path, value, what is allowed."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    value = first.get("input")
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(schema, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if not hint:  # a key put at the wrong level: `temprature` at the top means sampling.temperature
            paths = _all_key_paths(schema)
            near = difflib.get_close_matches(str(loc[-1]), [p.rsplit(".", 1)[-1] for p in paths], n=1)
            hint = [p for p in paths if near and p.rsplit(".", 1)[-1] == near[0]][:1]
        did_you = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"{path}: {key}: unknown key '{loc[-1]}' (allowed: {', '.join(allowed)}){did_you}"
    if first["type"] == "literal_error":
        expected = first.get("ctx", {}).get("expected", "")
        return f"{path}: {key}: '{value}' is not one of {expected.replace(' or ', ', ')}"
    if first["type"] == "missing":
        return f"{path}: {key}: required key is missing"
    msg = first["msg"].removeprefix("Value error, ")
    shown = f" '{value}'" if not isinstance(value, dict) else ""
    return f"{path}: {key}:{shown} {msg}"

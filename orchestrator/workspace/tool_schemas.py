"""The four tools every task offers, as OpenAI function schemas: the one place each is defined."""

from __future__ import annotations

from typing import Any


def _schema(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }}


TOOL_SCHEMAS: list[dict[str, Any]] = [
    _schema("read_file", "Read a text file of the repository.",
            {"path": {"type": "string", "description": "Path relative to the repository root."}}, ["path"]),
    _schema("write_file", "Write (create or replace) a text file of the repository with the full new content.",
            {"path": {"type": "string", "description": "Path relative to the repository root."},
             "content": {"type": "string", "description": "The complete new content of the file."}},
            ["path", "content"]),
    _schema("run_command", "Run a command in the repository root (for example `pytest -q` or `ls src`).",
            {"command": {"type": "string", "description": "The command line to run."}}, ["command"]),
    _schema("search_code", "Search the repository's files for a regular expression; prints file:line: text.",
            {"pattern": {"type": "string", "description": "Regular expression to look for."},
             "path": {"type": "string", "description": "Folder or file to search in (default: everything)."}},
            ["pattern"]),
]

REQUIRED_ARGS: dict[str, list[str]] = {
    s["function"]["name"]: s["function"]["parameters"]["required"] for s in TOOL_SCHEMAS
}
TOOL_NAMES = tuple(REQUIRED_ARGS)

"""What a harness did, as the graders see it: its tool calls (seen by the proxy) as workspace operations.

The graders' process checks (read this file, searched, re-ran the tests after the last write) read a
log of operations that raw runs get from our own tools. A harness uses its own tools, so its calls,
taken from the model's answers on their way through the proxy, are mapped here: the adapter names
which tool reads, writes or searches, and shell commands are read the way a person would (`cat f` reads
f, `sed -i` writes, `pytest` tests). A harness that edits with a trick this does not recognise still
gets its write counted when the final workspace differs from the fixture.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from types import ModuleType
from typing import Any

from orchestrator.agent.stream import TurnResult
from orchestrator.trajectory import ToolEvent, Trajectory
from orchestrator.workspace.workspace import Operation

READERS = {"cat", "head", "tail", "nl", "less", "more", "bat"}
SEARCHERS = {"grep", "rg", "ag", "find", "ack", "fd", "git-grep"}
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def without_heredocs(command: str) -> str:
    """The command lines only: a here-document's body is data (code holding `->` or `>`), not shell."""
    lines, out, ending = command.split("\n"), [], None
    for line in lines:
        if ending is not None:
            if line.strip() == ending:
                ending = None
            continue
        out.append(line)
        found = HEREDOC.search(line)
        if found:
            ending = found.group(2)
    return "\n".join(out)


def _relative(path: Any, workdir: Path) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return None
    p = Path(path.strip())
    if p.is_absolute():
        try:
            p = p.resolve(strict=False).relative_to(workdir.resolve())
        except ValueError:
            return None
    parts = [x for x in p.parts if x not in ("", ".")]
    return None if ".." in parts or not parts else Path(*parts).as_posix()


def _segments(command: str) -> list[list[str]]:
    """A shell line cut at ; && || | into word lists (quotes respected where shlex can)."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        words = command.split()
    out, cur = [], []
    for w in words:
        if w and set(w) <= set(";&|"):
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(w)
    return out + ([cur] if cur else [])


def _redirect_targets(words: list[str]) -> tuple[list[str], list[str]]:
    """(words without redirections, files written by `>` / `>>`): `> f`, `>f`, `2>>log`; not /dev/null."""
    kept, targets, i = [], [], 0
    while i < len(words):
        w = words[i]
        m = re.fullmatch(r"[0-9&]*(>>?|<<?-?|<<<)(.*)", w)
        if m and not w.startswith(("->", "=>")):
            target = m.group(2) or (words[i + 1] if i + 1 < len(words) else "")
            i += 1 if m.group(2) else 2
            if m.group(1).startswith(">") and target and not target.startswith("&") and target != "/dev/null":
                targets.append(target)
            continue
        kept.append(w)
        i += 1
    return kept, targets


def bash_ops(command: str, workdir: Path) -> list[tuple[str, str | None]]:
    """(kind, path) operations a shell command performs, in order: test, read, write, search."""
    ops: list[tuple[str, str | None]] = []
    for words in _segments(without_heredocs(command).replace("\n", " ; ")):
        words, written = _redirect_targets(words)
        while words and ("=" in words[0] and not words[0].startswith("=")):  # VAR=value prefixes
            words = words[1:]
        if words and words[0] in ("cd", "timeout", "env", "time", "sudo"):
            words = words[1:] if words[0] != "timeout" else words[2:]
        if words:
            ops += _program_ops(words, workdir)
        ops += [("write", _relative(t, workdir)) for t in written]
    return ops


def _program_ops(words: list[str], workdir: Path) -> list[tuple[str, str | None]]:
    prog = Path(words[0]).name
    args = [w for w in words[1:] if not w.startswith("-")]
    if prog in ("pytest", "py.test") or (prog.startswith("python") and words[1:3] == ["-m", "pytest"]):
        return [("test", None)]
    if prog in READERS:
        return [("read", _relative(a, workdir)) for a in args if _relative(a, workdir)]
    if prog == "sed" and any(w.startswith("-i") for w in words[1:]):
        return [("write", _relative(args[-1], workdir) if len(args) >= 2 else None)]
    if prog == "sed":
        return [("read", _relative(a, workdir)) for a in args[1:] if _relative(a, workdir)]
    if prog in SEARCHERS or (prog == "git" and words[1:2] == ["grep"]):
        return [("search", None)]
    if prog in ("tee", "patch", "cp", "mv", "touch"):
        return [("write", _relative(args[-1], workdir) if args else None)]
    return []


def _arguments(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def trajectory_of(results: list[TurnResult], adapter: ModuleType, workdir: Path, final_answer: str | None,
                  outputs: dict[str, str] | None = None) -> tuple[Trajectory, list[Operation]]:
    """`outputs`: tool call id -> what the harness showed the model (from its later requests)."""
    traj, ops, outputs = Trajectory(), [], outputs or {}
    for turn, result in enumerate(results, 1):
        traj.assistant_texts.append(result.raw_content)
        for call in result.tool_calls:
            args = _arguments(call.arguments)
            traj.events.append(ToolEvent(turn=turn, name=call.name, arguments=args, raw_arguments=call.arguments,
                                         result=outputs.get(call.id, ""), malformed=args is None,
                                         call_id=call.id))
            kind = adapter.tool_ops.get(call.name)
            if args is None or kind is None:
                continue
            if kind == "bash":
                command = args.get("command") or args.get("cmd") or ""
                found = bash_ops(str(command), workdir)
            else:
                path = next((args[a] for a in adapter.path_args if isinstance(args.get(a), str)), None)
                found = [(kind, _relative(path, workdir))]
            # One index per operation, in order: `cat > f.py <<EOF ... EOF; pytest` tests after its write.
            ops += [Operation(i, k, p) for i, (k, p) in enumerate(found, len(ops))]
        if not result.tool_calls:
            traj.final_answer = result.content
    traj.turns = len(results)
    if final_answer:
        traj.final_answer = final_answer
    return traj, ops


def count_unseen_write(ops: list[Operation], changed: list[str]) -> list[Operation]:
    """A changed workspace with no recognised write (a script, an editor the map does not know): the
    change is real, so count it, placed after the last operation that is not a test run."""
    if not changed or any(op.kind == "write" for op in ops):
        return ops
    at = max((i + 1 for i, op in enumerate(ops) if op.kind != "test"), default=0)
    shifted = [Operation(i, op.kind, op.path, op.ok, op.exit_code) for i, op in enumerate(ops)]
    write = Operation(at, "write", changed[0])
    return shifted[:at] + [write] + [Operation(i + 1, op.kind, op.path, op.ok, op.exit_code)
                                     for i, op in enumerate(shifted[at:], at)]

"""What `run_command` does with a command line: run it contained, answer it from the task, or refuse.

Allowed to really run (argv parsed with shlex, never a shell): test commands (`pytest ...`,
`python -m pytest ...`), `python file.py`, and the read-only `ls cat head tail grep find wc`. Every path
argument must stay inside the workspace. Anything else gets the task's canned answer where it has one,
else a fixed "not available" reply. Output is normalised so a trajectory replays byte-identically.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestrator.workspace.sandbox import Limits, run_contained
from orchestrator.taskdef import CannedResponse

READ_ONLY = {"ls", "cat", "head", "tail", "grep", "find", "wc"}
FIND_FORBIDDEN = {"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"}
NOT_AVAILABLE = "command not available in this environment"
READS_FILES = {"cat", "head", "tail"}


@dataclass
class CommandOutcome:
    output: str
    kind: str
    """test, python, readonly, canned, unavailable or refused."""
    exit_code: int | None = None
    read_paths: tuple[str, ...] = ()
    searched: bool = False


class Refused(Exception):
    pass


def _confined_arg(arg: str, root: Path) -> None:
    """An argument naming a path must stay inside the workspace (symlinks resolved)."""
    candidate = arg.split("::", 1)[0]  # pytest node ids: tests/test_x.py::test_y
    if candidate.startswith("/") or candidate.startswith("~"):
        raise Refused(f"absolute paths are not allowed: {arg}")
    if ".." in Path(candidate).parts:
        raise Refused(f"paths outside the repository are not allowed: {arg}")
    full = root / candidate
    if full.exists() or full.is_symlink():
        if not full.resolve().is_relative_to(root.resolve()):
            raise Refused(f"path leads outside the repository: {arg}")


def _positional(args: list[str]) -> list[str]:
    """Arguments that are not options; after `--` every argument is one (`grep -- -x file`)."""
    if "--" in args:
        end = args.index("--")
        return [a for a in args[:end] if not a.startswith("-")] + args[end + 1:]
    return [a for a in args if not a.startswith("-")]


PATTERN_OPTIONS = {"-e", "--regexp"}
"""grep options whose value is a pattern, never a path."""
PATTERN_SOURCES = {"e", "f", "--regexp", "--file"}
"""grep options that give the pattern (-e PATTERN, -f FILE): with one, no positional argument is the pattern."""


def _grep_pattern_given(args: list[str]) -> bool:
    """-e/-f in any spelling: alone, attached (-eroot), in a cluster (-rnf FILE), --regexp=..., --file FILE."""
    options = args[:args.index("--")] if "--" in args else args
    for arg in options:
        if arg.startswith("--"):
            if arg.split("=", 1)[0] in PATTERN_SOURCES:
                return True
        elif arg.startswith("-") and PATTERN_SOURCES & set(arg[1:]):
            return True
    return False


def _option_values(args: list[str]) -> list[str]:
    """Paths hidden in options: `--files0-from=/etc/passwd`, `-f/etc/passwd`, `-newer /etc/x`."""
    values = []
    for arg in args:
        if not arg.startswith("-") or arg in ("-", "--"):
            continue
        if "=" in arg and arg.startswith("--"):
            name, value = arg.split("=", 1)
            if name not in PATTERN_OPTIONS:
                values.append(value)
        elif not arg.startswith("--") and len(arg) > 2 and arg[:2] not in PATTERN_OPTIONS:
            # -f/etc/passwd, or after any flag of a cluster: -rf/etc/passwd (harmless for -rn)
            end = 2
            while end < len(arg) and arg[end - 1].isalpha():
                values.append(arg[end:])
                end += 1
    return values  # a value given as the next argument is positional, and checked as such


def _check_paths(program: str, args: list[str], root: Path) -> None:
    positional = _positional(args)
    if program == "grep" and not _grep_pattern_given(args) and positional:
        positional = positional[1:]  # the first positional argument is the pattern
    if program == "find":
        if FIND_FORBIDDEN & set(args):
            raise Refused("find may only list files here (-exec, -delete and friends are refused)")
        if {"-L", "-H", "-follow"} & set(args):
            raise Refused("find may not follow symbolic links here (-L, -H, -follow)")
        positional = [a for a in args if not a.startswith("-") and not a.startswith(("(", ")", "!"))]
    for arg in positional + _option_values(args):
        _confined_arg(arg, root)


def classify(argv: list[str]) -> tuple[str, list[str]]:
    """(kind, argv to run) for an allowlisted command, else ("other", argv)."""
    program = Path(argv[0]).name
    if program in ("pytest", "py.test"):
        return "test", [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argv[1:]]
    if program in ("python", "python3") and len(argv) >= 3 and argv[1:3] == ["-m", "pytest"]:
        return "test", [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argv[3:]]
    if program in ("python", "python3") and len(argv) >= 2 and argv[1].endswith(".py"):
        return "python", [sys.executable, *argv[1:]]
    if program in READ_ONLY and argv[0] == program:
        return "readonly", argv
    return "other", argv


def _canned(command: str, canned: list[CannedResponse]) -> CannedResponse | None:
    for response in canned:
        if re.search(response.match, command):
            return response
    return None


def _holds(response: CannedResponse, root: Path) -> bool:
    # Judged as the grader judges: TOML parsed, not matched line by line (taskdef.FileCondition).
    return all(cond.holds(root) for cond in response.when)


_TIMING = re.compile(r" in \d+(\.\d+)?s( \(\d+:\d\d:\d\d\))?")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def normalise(text: str, root: Path, home: Path) -> str:
    """Byte-identical output for identical trajectories: no temp paths, timings or addresses."""
    for path in (str(root.resolve()), str(root), str(home.resolve()), str(home)):
        text = text.replace(path, ".")
    text = _TIMING.sub("", text)
    return _ADDRESS.sub("0x…", text)


MAX_COMMAND_CHARS = 16 * 1024


def run_command(command: str, root: Path, home: Path, canned: list[CannedResponse],
                limits: Limits | None = None) -> CommandOutcome:
    if len(command) > MAX_COMMAND_CHARS:
        return CommandOutcome(f"error: command too long ({len(command)} characters; at most {MAX_COMMAND_CHARS})",
                              "refused")
    if "\x00" in command:
        return CommandOutcome("error: the command holds a NUL byte", "refused")
    try:
        command.encode("utf-8")
    except UnicodeEncodeError as err:
        return CommandOutcome(f"error: the command is not valid text ({err.reason} at position {err.start})",
                              "refused")
    try:
        argv = shlex.split(command)
    except ValueError as err:
        return CommandOutcome(f"error: could not parse the command line ({err})", "refused")
    if not argv:
        return CommandOutcome("error: empty command", "refused")
    kind, run_argv = classify(argv)
    if kind == "other":
        response = _canned(command, canned)
        if response is None:
            return CommandOutcome(NOT_AVAILABLE, "unavailable")
        if _holds(response, root):
            return CommandOutcome(response.output.rstrip("\n"), "canned", response.exit_code)
        code = response.exit_code if response.otherwise_exit_code is None else response.otherwise_exit_code
        return CommandOutcome((response.otherwise or response.output).rstrip("\n"), "canned", code)
    try:
        program = Path(argv[0]).name
        args = argv[1:] if kind != "test" else run_argv[5:]
        _check_paths(program if kind == "readonly" else "python", args, root)
    except Refused as err:
        return CommandOutcome(f"error: {err}", "refused")
    result = run_contained(run_argv, root, home, limits)
    if result.refused:
        return CommandOutcome(result.output, "refused")
    text = normalise(result.output, root, home)
    if result.cut:
        text += f"\n[output cut at {(limits or Limits()).output_bytes // 1024} KB]"
    if result.timed_out:
        text += "\n[command stopped: time limit reached]"
    if result.stopped:
        what = {"memory": "memory", "disk": "disk space", "files": "number of files"}.get(result.stopped, result.stopped)
        text += f"\n[command stopped: its {what} went over the sandbox's limit]"
    text = text.rstrip("\n") + f"\n[exit code: {result.exit_code if result.exit_code is not None else 'killed'}]"
    reads = tuple(_positional(argv[1:])) if program in READS_FILES else ()
    return CommandOutcome(text, kind, result.exit_code, read_paths=reads, searched=program == "grep")

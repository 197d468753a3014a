"""`search_code`, run inside the sandbox with a time limit: a pattern such as `(a+)+$` backtracks
for ever in Python's `re`, and it must cost the model its call, never siliconbench its process.

The worker is a constant program passed with `python -I -S -c` (nothing of the workspace can load
first); its output is the tool's text, identical to what the tool printed when it ran in-process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from orchestrator.workspace.sandbox import Limits, run_contained

MAX_PATTERN_CHARS = 2000
SEARCH_LIMITS = Limits(timeout_s=10, cpu_s=10, output_bytes=64 * 1024, max_procs=4)

WORKER = r"""
import re, sys
from pathlib import Path
pattern, start, skip, max_hits = sys.argv[1], sys.argv[2], set(sys.argv[3].split(",")), int(sys.argv[4])
root = Path(".").resolve()
try:
    regex = re.compile(pattern)
except (re.error, RecursionError, OverflowError, ValueError):
    regex = re.compile(re.escape(pattern))  # a literal search is what the model meant
start = root / start
files = [start] if start.is_file() else sorted(p for p in start.rglob("*") if p.is_file())
hits = []
for file in files:
    rel = file.relative_to(root)
    if skip & set(rel.parts) or file.is_symlink():
        continue
    try:
        lines = file.read_text(errors="strict").splitlines()
    except (UnicodeDecodeError, OSError):
        continue
    hits += [f"{rel.as_posix()}:{n}: {line.strip()}" for n, line in enumerate(lines, 1) if regex.search(line)]
    if len(hits) > 100 * max_hits:
        break
if not hits:
    print("no matches", end="")
else:
    more = f"\n[{len(hits) - max_hits} more matches not shown]" if len(hits) > max_hits else ""
    print("\n".join(hits[:max_hits]) + more, end="")
"""


class SearchError(Exception):
    """Goes back to the model as the tool's error."""


def search(root: Path, home: Path, pattern: str, start_rel: str, skip: set[str], max_hits: int,
           limits: Limits = SEARCH_LIMITS) -> str:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise SearchError(f"pattern too long ({len(pattern)} characters; at most {MAX_PATTERN_CHARS})")
    if "\x00" in pattern:
        raise SearchError("pattern holds a NUL byte")
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError as err:
        raise SearchError(f"pattern is not valid text ({err.reason} at position {err.start})") from None
    argv = [sys.executable, "-I", "-S", "-c", WORKER, pattern, start_rel, ",".join(sorted(skip)), str(max_hits)]
    result = run_contained(argv, root, home, limits)
    if result.refused:
        raise SearchError(result.output.removeprefix("error: "))
    if result.timed_out:
        raise SearchError(f"search stopped after {limits.timeout_s:g} s; use a simpler pattern")
    if result.exit_code != 0 or result.stopped:
        tail = (result.output.strip().splitlines() or ["no output"])[-1][:200]
        raise SearchError(f"search failed ({tail})")
    return result.output

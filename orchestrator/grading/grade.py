"""Judging a run by behaviour: hidden tests on a copy of the final workspace, plus process checks.

Any correct fix passes whatever its style; a plausible wrong fix fails the hidden tests. A failed run
gets ONE primary reason, chosen in this order (the first that applies):

1. infra_error          the server failed: not the model's doing, never scored
   truncated            the run ended on a turn the token cap cut (finish_reason `length`, no call)
2. no_tool_calls        no tool call at all (parser_dropped_call instead when the text held call markup)
3. invalid_tool_calls   every call was malformed
4. parser_dropped_call  the run ended on a turn whose text held tool-call markup the server did not parse
5. collateral_damage    previously passing tests broke or were edited, deleted or weakened, or files
                        outside the allowed ones changed (new tests are always allowed)
6. never_wrote          a task that needs a change got none (looping / out_of_turns when that is why)
7. wrong_fix            the hidden tests fail on the final workspace
8. wrong_answer         the final answer lacks what was asked, or came without reading the source
9. the task's reason for skipping its method (e.g. not searching), then no_verification
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from orchestrator.grading.answers import judge_answer
from orchestrator.grading.changes import judge_changes
from orchestrator.grading.reading import file_was_seen
from orchestrator.taskdef import Task
from orchestrator.trajectory import Trajectory
from orchestrator.workspace.workspace import SKIP_DIRS, Workspace


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Grade:
    passed: bool
    reason: str | None
    checks: list[Check] = field(default_factory=list)

    def checks_as_dicts(self) -> list[dict]:
        return [asdict(c) for c in self.checks]


def _digest_tree(root: Path) -> dict[str, str]:
    """Content digest of every regular file (links and special files by what they are, never followed:
    a link to /proc/self/mem or a FIFO must not hang or leak into grading)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if SKIP_DIRS & set(rel.parts):
            continue
        try:
            st = p.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            out[rel.as_posix()] = "link:" + os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            out[rel.as_posix()] = _file_digest(p)
        elif not stat.S_ISDIR(st.st_mode):
            out[rel.as_posix()] = f"special:{stat.S_IFMT(st.st_mode):o}"
    return out


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def changed_files(task: Task, ws: Workspace) -> list[str]:
    before, after = _digest_tree(task.repo), _digest_tree(ws.root)
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def looping(traj: Trajectory) -> bool:
    """The same call (tool and arguments) three or more times."""
    counts = Counter((e.name, e.raw_arguments) for e in traj.events)
    return any(n >= 3 for n in counts.values())


def _process_checks(task: Task, ws: Workspace, traj: Trajectory) -> list[Check]:
    c, log, checks = task.checks, ws.log, []
    writes = [op for op in log.ops if op.kind == "write" and op.ok]
    if c.must_write:
        checks.append(Check("wrote_a_change", bool(writes), f"{len(writes)} successful writes"))
    read = {op.path for op in log.ops if op.kind == "read" and op.ok and op.path}
    for path in c.must_read:
        seen = file_was_seen(task.repo, path, traj.events, read)
        checks.append(Check(f"read:{path}", seen.seen, seen.detail))
    if c.must_search:
        searches = [op.index + 1 for op in log.ops if op.kind == "search"]
        checks.append(Check("searched", bool(searches), f"searched in call {searches[0]}" if searches
                            else "no search_code or grep"))
    if c.answer:
        verdicts = judge_answer(traj.final_answer, c.answer, c.answer_distractors, c.answer_contrasts)
        units = {q.name: " s" if q.dimension == "duration" else "" for q in c.answer}
        detail = "; ".join(v.describe(units[v.name]) for v in verdicts)
        checks.append(Check("answer", all(v.passed for v in verdicts),
                            detail if traj.final_answer else "no final answer"))
    if c.tests_after_last_write:
        last_write = writes[-1].index if writes else None
        tests = [op.index for op in log.ops if op.kind == "test"]
        after = [i + 1 for i in tests if last_write is not None and i > last_write]
        checks.append(Check("tests_after_last_write", bool(after),
                            f"last write in call {last_write + 1}, tests ran in call {after[0]}" if after
                            else "no test run after the last write"))
    return checks


def _outcome_checks(task: Task, ws: Workspace) -> list[Check]:
    c, checks = task.checks, []
    if c.allowed_changes is not None:
        verdict = judge_changes(changed_files(task, ws), task.repo, ws.root, c.allowed_changes)
        kept = f"changed {', '.join(verdict.allowed)}" if verdict.allowed else "nothing changed"
        checks.append(Check("only_allowed_files_changed", not verdict.stray,
                            f"also changed {verdict.stray}" if verdict.stray else kept))
        checks.append(Check("existing_tests_kept", not verdict.damaged_tests,
                            "; ".join(verdict.damaged_tests) or "no existing test edited, deleted or weakened"))
    if c.visible_tests:
        # SWE-bench style (hidden_tests.py): the model's diff on a fresh fixture copy, judged by JUnit XML.
        from orchestrator.grading.hidden_tests import visible_tests_check

        result = visible_tests_check(task, ws.root, c.visible_tests)
        checks.append(Check("existing_tests_pass", result.passed, result.detail))
    if c.hidden_tests:
        from orchestrator.grading.hidden_tests import hidden_tests_check

        result = hidden_tests_check(task, ws.root)
        checks.append(Check("hidden_tests", result.passed, result.detail))
    return checks


def _reason(task: Task, traj: Trajectory, checks: dict[str, Check]) -> str:
    def failed(name: str) -> bool:
        return name in checks and not checks[name].passed

    if traj.truncated_turns and traj.truncated_turns[-1] == traj.turns and traj.ended == "answer":
        return "truncated"
    if not traj.events:
        return "parser_dropped_call" if traj.dropped_call_turns else "no_tool_calls"
    if all(e.malformed for e in traj.events):
        return "invalid_tool_calls"
    if traj.dropped_call_turns and traj.dropped_call_turns[-1] == traj.turns:
        return "parser_dropped_call"
    if failed("existing_tests_pass") or failed("only_allowed_files_changed") or failed("existing_tests_kept"):
        return "collateral_damage"
    if failed("wrote_a_change"):
        if looping(traj):
            return "looping"
        return "out_of_turns" if traj.ended == "max_turns" else "never_wrote"
    if failed("hidden_tests"):
        return "wrong_fix"
    if failed("answer") or any(failed(n) for n in checks if n.startswith("read:")):
        if traj.ended == "max_turns" and traj.final_answer is None:
            return "looping" if looping(traj) else "out_of_turns"
        return "wrong_answer"
    if failed("searched"):
        return task.checks.search_reason
    return "no_verification"


def grade(task: Task, ws: Workspace, traj: Trajectory) -> Grade:
    if traj.ended == "infra_error":
        return Grade(False, "infra_error")
    checks = _process_checks(task, ws, traj) + _outcome_checks(task, ws)
    passed = all(c.passed for c in checks)
    return Grade(passed, None if passed else _reason(task, traj, {c.name: c for c in checks}), checks)

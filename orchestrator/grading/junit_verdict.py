"""Each test judged from pytest's JUnit XML against the tests the grader expects, never from an exit code.

The expected tests come from the trusted test files themselves (the task's hidden tests, the
fixture's own tests), read with `ast`: every `test_*` function or `Test*` class method, with the
number of cases a literal `@pytest.mark.parametrize` gives it (a minimum: fixtures may add more). A
test that is missing, skipped, errored or failed fails the check; so does a report that is absent,
too large, malformed or carries a DOCTYPE (no entity tricks). A process that calls `os._exit(0)` at
exit leaves a report of failures or no report at all: both fail.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_REPORT_BYTES = 8 * 2**20


def _cases(decorators: list[ast.expr]) -> int | None:
    """Cases a stack of decorators makes (1 without parametrize; None when not a literal list)."""
    count: int | None = 1
    for dec in decorators:
        if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == "parametrize"):
            continue
        values = dec.args[1] if len(dec.args) > 1 else next((k.value for k in dec.keywords if k.arg == "argvalues"), None)
        if isinstance(values, (ast.List, ast.Tuple)) and count is not None:
            count *= len(values.elts)
        else:
            count = None
    return count


def _times(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a * b


def expected_tests(test_file: Path, rootdir: Path) -> dict[str, int | None]:
    """{'pkg.test_mod::test_name': cases} for one trusted test file, keyed as JUnit names them."""
    module = ".".join(PurePosixPath(test_file.relative_to(rootdir).as_posix()).with_suffix("").parts)
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    out: dict[str, int | None] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            out[f"{module}::{node.name}"] = _cases(node.decorator_list)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            per_class = _cases(node.decorator_list)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    out[f"{module}.{node.name}::{item.name}"] = _times(per_class, _cases(item.decorator_list))
    return out


@dataclass
class Verdict:
    passed: bool
    detail: str
    outcomes: dict[str, str] = field(default_factory=dict)
    """'module::test[case]' -> passed, failed, error or skipped."""


def read_report(path: Path) -> dict[str, str] | str:
    """Outcome of each test case in a JUnit XML, or why the report cannot be trusted."""
    try:
        if path.is_symlink() or not path.is_file():
            return "no test report (the run died, or never reached its end)"
        if path.stat().st_size > MAX_REPORT_BYTES:
            return "test report too large"
        data = path.read_bytes()
    except OSError as err:
        return f"test report unreadable ({err.strerror})"
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return "test report carries a DOCTYPE"
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        return f"test report malformed ({err})"
    outcomes: dict[str, str] = {}
    for case in root.iter("testcase"):
        key = f"{case.get('classname', '')}::{case.get('name', '')}"
        kinds = {child.tag for child in case}
        outcome = ("error" if "error" in kinds else "failed" if "failure" in kinds
                   else "skipped" if "skipped" in kinds else "passed")
        if outcomes.get(key, "passed") == "passed":  # a setup error and a call pass are two entries
            outcomes[key] = outcome
    return outcomes


def judge(report: Path, expected: dict[str, int | None], what: str = "tests", canary: str | None = None) -> Verdict:
    """`canary`: the JUnit key of the grader's own test that must FAIL. Code under test runs inside
    pytest and could rewrite its reports (patch TestReport, forge the XML at exit); a blanket
    "everything passed" then shows on a test whose name and arithmetic it cannot know in advance."""
    outcomes = read_report(report)
    if isinstance(outcomes, str):
        return Verdict(False, outcomes)
    if canary is not None:
        if outcomes.pop(canary, None) != "failed":
            return Verdict(False, "the test report was tampered with (the grader's failing control test did not fail)")
    seen: dict[str, int] = defaultdict(int)
    bad = []
    for key, outcome in outcomes.items():
        seen[key.split("[", 1)[0]] += 1
        if outcome != "passed":
            bad.append(f"{key.split('::', 1)[-1]} ({outcome})")
    missing = []
    for test, cases in expected.items():
        if seen[test] < (cases if cases is not None else 1):
            missing.append(f"{test.split('::', 1)[-1]} ({seen[test]} of {cases if cases is not None else 'some'} cases ran)")
    total = len(outcomes)
    if not bad and not missing and total:
        return Verdict(True, f"{total} of {total} {what} passed", outcomes)
    parts = []
    if bad:
        parts.append(f"{len(bad)} of {total} {what} did not pass: {', '.join(bad[:8])}{' ...' if len(bad) > 8 else ''}")
    if missing:
        parts.append(f"missing: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
    if not total and not missing:
        parts.append(f"no {what} ran")
    return Verdict(False, "; ".join(parts)[:600], outcomes)

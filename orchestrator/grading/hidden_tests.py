"""Grading as SWE-bench does: the model's change, applied to a fresh fixture copy, tested in a fresh
sandbox with a pinned pytest configuration, each test judged from a JUnit XML.

1. the change: a diff of source and test files only (model_change.py), read from the workspace
   without following a link; nothing a model process left behind (bytecode, a conftest.py, a
   pytest.ini, a daemon: none outlives its command) reaches the copy;
2. a fresh copy of the task's fixture (never the workspace), the change written over it, the hidden
   tests added beside it from the installed task;
3. pytest in a new sandbox: `python -I -B` (no cwd or PYTHONPATH on sys.path, no bytecode written),
   `-c` a config the grader writes from the fixture's own pytest settings (no upward search: a
   pytest.ini anywhere else is never read), `--rootdir` the copy, `-p no:cacheprovider`, plugin
   autoload off, a private /tmp, the report written outside the copy;
4. each expected test judged from the JUnit XML (junit_verdict.py); the exit code is not read.

Bounded: the walk, the diff's files and bytes, the test run's time, CPU, memory and output.
"""

from __future__ import annotations

import configparser
import secrets
import shlex
import shutil
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from orchestrator.grading.junit_verdict import expected_tests, judge
from orchestrator.grading.model_change import HIDDEN_DIR, SKIP_PARTS, ChangeTooLarge, apply_change, collect_change
from orchestrator.taskdef import Task
from orchestrator.workspace.bwrap import sandbox_uid
from orchestrator.workspace.hygiene import remove_tree
from orchestrator.workspace.sandbox import Limits, hand_over, run_contained

GRADER_LIMITS = Limits(timeout_s=120, cpu_s=120, output_bytes=64 * 1024, max_procs=64)


@dataclass
class TestCheck:
    passed: bool
    detail: str


class GradingFault(Exception):
    """The grader itself could not run (no sandbox, no disk): an infrastructure error of this run."""


def _ignore_caches(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_PARTS or n.endswith((".pyc", ".pyo"))}


def _task_pytest_options(fixture: Path) -> dict[str, str]:
    """The fixture's own pytest settings (pyproject, pytest.ini, tox.ini, setup.cfg), as ini values."""
    options: dict[str, str] = {}
    pyproject = fixture / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("pytest", {}).get("ini_options", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            table = {}
        for key, value in table.items():
            options[key] = "\n  ".join(map(str, value)) if isinstance(value, list) else str(value)
    for name, section in (("pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(fixture / name)
        except configparser.Error:
            continue
        if parser.has_section(section):
            options.update(dict(parser.items(section)))
    return options


def _write_config(path: Path, fixture: Path, copy: Path) -> None:
    options = _task_pytest_options(fixture)
    extra = options.pop("pythonpath", "")
    options["pythonpath"] = " ".join([str(copy), *(str(copy / p) for p in extra.split())])
    options.pop("cache_dir", None)
    lines = ["[pytest]"] + [f"{key} = {value}" for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n")


def _expected(files: list[Path], rootdir: Path) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for f in files:
        try:
            out.update(expected_tests(f, rootdir))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue  # a trusted file the grader cannot read lists nothing; its tests still must pass
    return out


def _test_files(root: Path, targets: list[str]) -> list[Path]:
    found = []
    for target in targets or ["."]:
        start = root / target.split("::", 1)[0]
        candidates = [start] if start.is_file() else sorted(start.rglob("*.py")) if start.is_dir() else []
        found += [p for p in candidates if (p.name.startswith("test_") or p.stem.endswith("_test"))
                  and not SKIP_PARTS & set(p.relative_to(root).parts)]
    return found


def _plant_canary(copy: Path) -> tuple[str, str]:
    """A test of the grader's own that must fail: random name, random arithmetic (see judge)."""
    folder, name = f"_grader_{secrets.token_hex(6)}", f"test_{secrets.token_hex(6)}"
    a, b = secrets.randbelow(10**6) + 1, secrets.randbelow(10**6) + 1
    (copy / folder).mkdir()
    (copy / folder / f"{name}.py").write_text(f"def {name}():\n    assert {a} + {b} == {a + b + 1}\n")
    return f"{folder}.{name}::{name}", f"{folder}/{name}.py"


def run_pytest_on_change(task: Task, workspace: Path, targets: list[str], with_hidden: bool,
                         what: str) -> TestCheck:
    """The model's change on a fresh copy; `targets` (paths or node ids) judged test by test."""
    base = Path(tempfile.mkdtemp(prefix="sb-grade-"))
    try:
        try:
            change = collect_change(task.repo, workspace, task.checks.allowed_changes)
        except ChangeTooLarge as err:
            return TestCheck(False, str(err))
        copy, home = base / "repo", base / "home"
        shutil.copytree(task.repo, copy, symlinks=False, ignore=_ignore_caches)
        apply_change(change, copy)
        if with_hidden:
            shutil.rmtree(copy / HIDDEN_DIR, ignore_errors=True)
            shutil.copytree(task.hidden_tests, copy / HIDDEN_DIR, ignore=_ignore_caches)
        home.mkdir()
        trusted = _test_files(copy / HIDDEN_DIR, []) if with_hidden else _test_files(task.repo, targets)
        expected = _expected(trusted, copy if with_hidden else task.repo)
        canary_key, canary_target = _plant_canary(copy)
        config, report = home / "pytest-grader.ini", home / f"report-{secrets.token_hex(8)}.xml"
        _write_config(config, task.repo, copy)
        hand_over(copy, home, uid=sandbox_uid())  # root: a fresh uid, so no other sandbox shares its process cap
        argv = [sys.executable, "-I", "-B", "-m", "pytest", "-c", str(config), "--rootdir", str(copy),
                "-p", "no:cacheprovider", f"--junitxml={report}", "-o", "junit_family=xunit1",
                "-o", "junit_logging=no", "-q", "--no-header", "-p", "no:stepwise",
                *(targets or _task_pytest_options(task.repo).get("testpaths", ".").split()), canary_target]
        result = run_contained(argv, copy, home, GRADER_LIMITS)
        if result.refused:
            raise GradingFault(result.output)
        verdict = judge(report, expected, what, canary=canary_key)
        detail = verdict.detail
        if result.timed_out:
            detail = f"stopped after {GRADER_LIMITS.timeout_s:g} s; {detail}"
        elif result.stopped:
            detail = f"stopped: over the sandbox's {result.stopped} limit; {detail}"
        return TestCheck(verdict.passed and not result.timed_out and not result.stopped, detail)
    finally:
        remove_tree(base)


def hidden_tests_check(task: Task, workspace: Path) -> TestCheck:
    return run_pytest_on_change(task, workspace, [HIDDEN_DIR], with_hidden=True, what="hidden tests")


def visible_tests_check(task: Task, workspace: Path, command: str) -> TestCheck:
    """The task's visible test command (`pytest -q tests/x.py`), its paths kept, its options dropped."""
    args = shlex.split(command)
    args = args[3:] if args[:3] == ["python", "-m", "pytest"] else args[1:]
    targets = [a for a in args if not a.startswith("-") and ".." not in Path(a).parts and not a.startswith("/")]
    return run_pytest_on_change(task, workspace, targets, with_hidden=False, what="existing tests")

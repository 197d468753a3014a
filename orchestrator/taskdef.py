"""The ten tasks, read from tasks/<id>/task.yaml: prompt, fixture repo, canned responses, pass checks."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import UserError

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
TASK_ORDER = ("config_read", "read_fix_write", "todo_implementation", "error_recovery", "dependency_chain",
              "tdd", "multi_file_investigation", "feature_addition", "security_fix", "full_debug_cycle")
Reason = Literal["wrong_fix", "wrong_answer", "no_verification", "never_wrote", "collateral_damage"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class FileCondition(Strict):
    path: str
    contains: str | None = None
    """Regular expression that must match the file's content."""
    lacks: str | None = None
    """Regular expression that must not match the file's content."""
    toml: dict[str, str | int | float | bool] | None = None
    """Dotted keys and the values they must hold once the file is parsed as TOML, as the code reads it
    (`{"database.port": 6432}`; a quoted "6432" counts as 6432 where the expected value is a number).
    A file that is not valid TOML holds nothing."""

    def holds(self, root: Path) -> bool:
        path = root / self.path
        text = path.read_text(errors="replace") if path.is_file() and not path.is_symlink() else ""
        if self.contains and not re.search(self.contains, text):
            return False
        if self.lacks and re.search(self.lacks, text):
            return False
        return self.toml is None or _toml_holds(text, self.toml)


def _toml_holds(text: str, expected: dict) -> bool:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    for dotted, want in expected.items():
        value: object = data
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(value, str):
            try:
                value = type(want)(value.strip())  # the code does int(settings["port"])
            except ValueError:
                return False
        if value != want or type(value) is bool and type(want) is not bool:
            return False
    return True


class CannedResponse(Strict):
    """What a command outside the allowlist answers (an installer, curl to the app, a service manager)."""

    match: str
    """Regular expression searched in the command line."""
    output: str
    """The answer while `when` holds (or always, without `when`)."""
    when: list[FileCondition] = Field(default_factory=list)
    """Conditions on the workspace, all required: e.g. the config holds the right port."""
    otherwise: str | None = None
    """The answer while `when` does not hold."""
    exit_code: int = 0
    otherwise_exit_code: int | None = None
    """Exit status while `when` does not hold (e.g. 22, curl's for an HTTP error): lets a canned
    command serve as the harness's visible check."""


class AnswerQuantity(Strict):
    """One value the question asks for, as the answer parser ties numbers to it (grading/answers.py)."""

    name: str
    value: float
    """The expected value, in the base unit (seconds for a duration)."""
    dimension: Literal["count", "duration"]
    keywords: list[str]
    """Lower-case stems that tie a nearby number to this quantity ("retr", "backoff", "wait")."""
    offsets: dict[str, float] = Field(default_factory=dict)
    """What to add to a number stated with a count noun (singular) to get this quantity
    (`{attempt: -1}`: "8 attempts" states 7 retries)."""


class Checks(Strict):
    hidden_tests: bool = True
    """Run hidden_tests/ (pytest) on a copy of the final workspace; all must pass."""
    visible_tests: str | None = None
    """A test command that passed before the run and must still pass after (else collateral_damage)."""
    allowed_changes: list[str] | None = None
    """Globs of source files the run may create or change; anything else changed is collateral_damage.
    New tests are always allowed; existing tests may not be edited, deleted or weakened."""
    must_write: bool = True
    must_read: list[str] = Field(default_factory=list)
    """Files whose content some tool output must have carried (read_file, cat, grep, search_code...)."""
    must_search: bool = False
    """The model must have used search_code (or grep through run_command)."""
    search_reason: Reason = "wrong_fix"
    answer: list[AnswerQuantity] = Field(default_factory=list)
    """The quantities the final answer must state, each with its one right value."""
    answer_distractors: list[str] = Field(default_factory=list)
    """Stems that tie the nearest number to something else (other settings: "timeout", "multiplier")."""
    answer_contrasts: list[str] = Field(default_factory=list)
    """Words after which the rest of a clause speaks of something else ("default", "staging", "instead")."""
    tests_after_last_write: bool = False
    """A test command ran after the last successful write."""


class Task(Strict):
    id: str
    tier: Literal["basic", "intermediate", "advanced"]
    title: str
    prompt: str
    visible_check: str = "pytest -q"
    """Harness mode: the check whose failure is fed back to the model (never the hidden tests)."""
    canned: list[CannedResponse] = Field(default_factory=list)
    checks: Checks = Field(default_factory=Checks)
    passes_when: str
    """One paragraph for humans: what a pass means."""

    @property
    def folder(self) -> Path:
        return TASKS_DIR / self.id

    @property
    def repo(self) -> Path:
        return self.folder / "repo"

    @property
    def hidden_tests(self) -> Path:
        return self.folder / "hidden_tests"

    @property
    def trajectories(self) -> Path:
        return self.folder / "trajectories"

    def __hash__(self) -> int:
        return hash(self.id)


@lru_cache(maxsize=None)
def load_task(task_id: str) -> Task:
    path = TASKS_DIR / task_id / "task.yaml"
    if task_id not in TASK_ORDER or not path.exists():
        raise UserError(f"task '{task_id}' is not one of {', '.join(TASK_ORDER)}")
    try:
        return Task.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: {key}: {first['msg']}") from None


def list_tasks() -> list[Task]:
    return [load_task(t) for t in TASK_ORDER if (TASKS_DIR / t / "task.yaml").exists()]


@lru_cache(maxsize=1)
def system_prompt() -> str:
    return (TASKS_DIR / "system_prompt.md").read_text().strip()

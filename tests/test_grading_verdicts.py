"""A run's verdict (grading/grade.py): which checks a task's settings make, what each saw, and the ONE
primary failure reason, chosen in the documented order. Driven with a workspace log and trajectory
built by hand (the tools that fill them are tested in test_workspace_tools.py); the hidden and visible
test checks, which need the sandbox, are stood in for where only their wiring is asked."""

import hashlib
import os
import shutil
from types import SimpleNamespace

import pytest

from orchestrator.grading import grade as grade_mod
from orchestrator.grading import hidden_tests
from orchestrator.grading.grade import Check, Grade, _digest_tree, _reason, changed_files, grade, looping
from orchestrator.grading.hidden_tests import TestCheck as Result
from orchestrator.taskdef import AnswerQuantity, Checks, load_task
from orchestrator.trajectory import FAILURE_REASONS, ToolEvent, Trajectory
from orchestrator.workspace.workspace import Operation, WorkspaceLog

CONFIG = load_task("config_read")
PRODUCTION = (CONFIG.repo / "config" / "production.toml").read_text()


def task_with(**checks):
    base = {"hidden_tests": False, "must_write": False}
    return CONFIG.model_copy(update={"checks": Checks(**{**base, **checks})})


def event(name="read_file", raw='{"path": "x"}', result="", malformed=False, error=None, turn=1):
    return ToolEvent(turn=turn, name=name, arguments=None, raw_arguments=raw, result=result, malformed=malformed,
                     error=error)


def traj(events=None, **kw):
    return Trajectory(events=[event()] if events is None else events, **kw)


def workspace(tmp_path, ops=()):
    root = tmp_path / "repo"
    shutil.copytree(CONFIG.repo, root)
    return SimpleNamespace(root=root, log=WorkspaceLog(list(ops)))


def checks(**passed: bool) -> dict[str, Check]:
    return {name.replace("read_", "read:"): Check(name.replace("read_", "read:"), ok) for name, ok in passed.items()}


# ---- the reason, in the documented order ----

LOOP = [event(raw='{"path": "a"}')] * 3


@pytest.mark.parametrize("trajectory, failed, reason", [
    # truncated: the run ended on a cut turn, whatever else failed
    (traj([], truncated_turns=[3], turns=3), dict(hidden_tests=False), "truncated"),
    (traj([], truncated_turns=[2], turns=3), dict(hidden_tests=False), "no_tool_calls"),
    (traj([], truncated_turns=[3], turns=3, ended="max_turns"), dict(hidden_tests=False), "no_tool_calls"),
    (traj([], truncated_turns=[1, 3], turns=3, dropped_call_turns=[3]), {}, "truncated"),
    # no call at all
    (traj([]), dict(answer=False), "no_tool_calls"),
    (traj([], dropped_call_turns=[1]), dict(answer=False), "parser_dropped_call"),
    # every call malformed; one good call is enough to go on
    (traj([event(malformed=True)] * 2), dict(existing_tests_kept=False), "invalid_tool_calls"),
    (traj([event(malformed=True), event()]), dict(existing_tests_kept=False), "collateral_damage"),
    # the last turn's call was lost
    (traj(dropped_call_turns=[2, 4], turns=4), dict(existing_tests_kept=False), "parser_dropped_call"),
    (traj(dropped_call_turns=[2], turns=4), dict(existing_tests_kept=False), "collateral_damage"),
    # collateral damage comes before every outcome check
    (traj(), dict(existing_tests_pass=False, wrote_a_change=False, hidden_tests=False), "collateral_damage"),
    (traj(), dict(only_allowed_files_changed=False, hidden_tests=False), "collateral_damage"),
    (traj(), dict(existing_tests_kept=False, answer=False), "collateral_damage"),
    (traj(), dict(existing_tests_pass=True, only_allowed_files_changed=True, existing_tests_kept=True,
                  hidden_tests=False), "wrong_fix"),
    # no write: why
    (traj(), dict(wrote_a_change=False, hidden_tests=False), "never_wrote"),
    (traj(LOOP), dict(wrote_a_change=False, hidden_tests=False), "looping"),
    (traj(LOOP[:2]), dict(wrote_a_change=False), "never_wrote"),
    (traj(ended="max_turns"), dict(wrote_a_change=False), "out_of_turns"),
    (traj(LOOP, ended="max_turns"), dict(wrote_a_change=False), "looping"),
    # the hidden tests before the answer
    (traj(), dict(hidden_tests=False, answer=False, searched=False), "wrong_fix"),
    # the answer and the reading
    (traj(), dict(answer=False, searched=False), "wrong_answer"),
    (traj(), dict(read_config=False, answer=True, searched=False), "wrong_answer"),
    (traj(ended="max_turns"), dict(answer=False), "out_of_turns"),
    (traj(LOOP, ended="max_turns"), dict(read_config=False), "looping"),
    (traj(LOOP), dict(answer=False), "wrong_answer"),
    (traj(ended="max_turns", final_answer="3 retries"), dict(answer=False), "wrong_answer"),
    # the method, then verification
    (traj(), dict(searched=False, tests_after_last_write=False), "never_wrote"),
    (traj(), dict(tests_after_last_write=False), "no_verification"),
    (traj(), dict(answer=True, searched=True, tests_after_last_write=False), "no_verification"),
])
def test_the_primary_reason_is_the_first_that_applies(trajectory, failed, reason):
    task = task_with(search_reason="never_wrote")
    assert _reason(task, trajectory, checks(**failed)) == reason


def test_a_skipped_search_gives_the_tasks_own_reason():
    assert _reason(task_with(), traj(), checks(searched=False)) == "wrong_fix"
    assert _reason(task_with(search_reason="wrong_answer"), traj(), checks(searched=False)) == "wrong_answer"


def test_every_reason_of_the_fixed_list_is_a_known_one():
    assert FAILURE_REASONS == ("no_tool_calls", "invalid_tool_calls", "out_of_turns", "never_wrote", "wrong_fix",
                               "no_verification", "wrong_answer", "collateral_damage", "looping",
                               "parser_dropped_call", "truncated", "infra_error")


@pytest.mark.parametrize("calls, loops", [
    ([("read_file", '{"path": "a"}')] * 3, True),
    ([("read_file", '{"path": "a"}')] * 2, False),
    ([("read_file", '{"path": "a"}')] * 2 + [("read_file", '{"path": "b"}')], False),
    ([("read_file", '{"path": "a"}'), ("search_code", '{"path": "a"}'), ("read_file", '{"path": "a"}')], False),
    ([("read_file", '{"path": "a"}'), ("x", "1"), ("read_file", '{"path": "a"}'), ("y", "2"),
      ("read_file", '{"path": "a"}')], True),
    ([("read_file", '{"path": "a"}')] * 5, True),
    ([], False),
])
def test_looping_is_the_same_call_three_times(calls, loops):
    assert looping(Trajectory(events=[event(name, raw) for name, raw in calls])) is loops


def test_the_trajectory_counts_calls_and_malformed_calls():
    t = Trajectory(events=[event(), event(malformed=True), event(malformed=True), event(error="no such file")])
    assert (t.tool_calls, t.malformed_calls) == (4, 2)
    assert (Trajectory().tool_calls, Trajectory().malformed_calls, Trajectory().ended) == (0, 0, "answer")


# ---- the checks a task makes, and what each saw ----

def test_an_infra_error_is_never_graded(tmp_path):
    result = grade(task_with(must_write=True, answer=CONFIG.checks.answer), workspace(tmp_path),
                   traj(ended="infra_error"))
    assert result == Grade(False, "infra_error", [])


def test_a_run_that_meets_every_check_passes_with_no_reason(tmp_path):
    ops = [Operation(0, "read", "config/production.toml"), Operation(1, "search")]
    t = traj([event(result=PRODUCTION)], final_answer="7 retries, and a 45 s initial backoff")
    task = task_with(must_read=["config/production.toml"], must_search=True, answer=CONFIG.checks.answer,
                     answer_distractors=CONFIG.checks.answer_distractors, allowed_changes=[])
    result = grade(task, workspace(tmp_path, ops), t)
    assert (result.passed, result.reason) == (True, None)
    assert [(c.name, c.passed) for c in result.checks] == [
        ("read:config/production.toml", True), ("searched", True), ("answer", True),
        ("only_allowed_files_changed", True), ("existing_tests_kept", True)]
    assert result.checks_as_dicts()[1] == {"name": "searched", "passed": True, "detail": "searched in call 2"}


def test_a_task_with_no_checks_passes(tmp_path):
    assert grade(task_with(), workspace(tmp_path), traj()) == Grade(True, None, [])


def test_a_failed_run_gets_its_reason_and_its_checks(tmp_path):
    result = grade(task_with(must_write=True), workspace(tmp_path), traj())
    assert result == Grade(False, "never_wrote", [Check("wrote_a_change", False, "0 successful writes")])


@pytest.mark.parametrize("ops, passed, detail", [
    ([Operation(0, "write", "a.py"), Operation(3, "write", "b.py")], True, "2 successful writes"),
    ([Operation(0, "write", "a.py", ok=False)], False, "0 successful writes"),
    ([Operation(0, "read", "a.py")], False, "0 successful writes"),
    ([Operation(0, "write", "a.py", ok=False), Operation(1, "write", "a.py")], True, "1 successful writes"),
])
def test_a_write_counts_only_when_it_succeeded(tmp_path, ops, passed, detail):
    [check] = grade_mod._process_checks(task_with(must_write=True), workspace(tmp_path, ops), traj())
    assert check == Check("wrote_a_change", passed, detail)


@pytest.mark.parametrize("ops, passed, detail", [
    ([Operation(0, "read"), Operation(2, "search"), Operation(5, "search")], True, "searched in call 3"),
    ([Operation(0, "read"), Operation(1, "test")], False, "no search_code or grep"),
    ([], False, "no search_code or grep"),
])
def test_the_search_check_names_the_first_search(tmp_path, ops, passed, detail):
    [check] = grade_mod._process_checks(task_with(must_search=True), workspace(tmp_path, ops), traj())
    assert check == Check("searched", passed, detail)


@pytest.mark.parametrize("ops, passed, detail", [
    ([Operation(0, "write", "a"), Operation(1, "test"), Operation(4, "write", "a"), Operation(6, "test"),
      Operation(8, "test")], True, "last write in call 5, tests ran in call 7"),
    ([Operation(0, "write", "a"), Operation(1, "test"), Operation(4, "write", "a")], False,
     "no test run after the last write"),
    ([Operation(2, "test"), Operation(2, "write", "a")], False, "no test run after the last write"),
    ([Operation(1, "test")], False, "no test run after the last write"),
    ([Operation(0, "write", "a"), Operation(1, "test"), Operation(2, "write", "a", ok=False)], True,
     "last write in call 1, tests ran in call 2"),
    ([Operation(0, "write", "a"), Operation(1, "python")], False, "no test run after the last write"),
])
def test_tests_must_run_after_the_last_successful_write(tmp_path, ops, passed, detail):
    [check] = grade_mod._process_checks(task_with(tests_after_last_write=True), workspace(tmp_path, ops), traj())
    assert check == Check("tests_after_last_write", passed, detail)


def test_a_file_is_read_when_a_tool_output_carried_it(tmp_path):
    task = task_with(must_read=["config/production.toml", "config/staging.toml"])
    t = traj([event(result="nothing"), event(name="run_command", result=PRODUCTION)])
    seen, unseen = grade_mod._process_checks(task, workspace(tmp_path), t)
    assert (seen.name, seen.passed) == ("read:config/production.toml", True)
    assert seen.detail.startswith("call 2 (run_command) showed config/production.toml: ")
    assert unseen == Check("read:config/staging.toml", False,
                           "no tool output carried the content of config/staging.toml")


def test_a_file_with_no_line_of_its_own_counts_as_read_by_its_logged_path(tmp_path):
    ws = workspace(tmp_path, [Operation(0, "read", "src/notifier/__init__.py")])
    task = task_with(must_read=["src/notifier/__init__.py"])
    [check] = grade_mod._process_checks(task, ws, traj())
    assert check == Check("read:src/notifier/__init__.py", True, "read src/notifier/__init__.py through a tool")
    ws.log.ops[0].ok = False
    [check] = grade_mod._process_checks(task, ws, traj())
    assert check.passed is False


def test_the_answer_check_tells_what_was_stated(tmp_path):
    task = task_with(answer=CONFIG.checks.answer, answer_distractors=CONFIG.checks.answer_distractors)
    [check] = grade_mod._process_checks(task, workspace(tmp_path), traj(final_answer="7 retries, 50 s backoff"))
    assert check == Check("answer", False, "retries: stated 7 ('7 retries'): ok; initial backoff: stated 50 s "
                                           "('50 s back'): expected 45 s")


def test_no_final_answer_fails_the_answer_check_and_says_so(tmp_path):
    task = task_with(answer=CONFIG.checks.answer)
    [check] = grade_mod._process_checks(task, workspace(tmp_path), traj(final_answer=None))
    assert check == Check("answer", False, "no final answer")


def test_every_quantity_must_be_right_for_the_answer_to_pass(tmp_path):
    task = task_with(answer=[AnswerQuantity(name="n", value=2, dimension="count", keywords=["retr"]),
                             AnswerQuantity(name="d", value=5, dimension="duration", keywords=["wait"])])
    cases = {"2 retries, wait 5 s": True, "2 retries, wait 6 s": False, "3 retries, wait 5 s": False, "": False}
    got = {a: grade_mod._process_checks(task, workspace(tmp_path / str(i)), traj(final_answer=a))[0].passed
           for i, a in enumerate(cases)}
    assert got == cases


# ---- outcome checks ----

def test_unchanged_workspace_keeps_to_the_allowed_files(tmp_path):
    result = grade(task_with(allowed_changes=["src/notifier/*.py"]), workspace(tmp_path), traj())
    assert result.checks == [Check("only_allowed_files_changed", True, "nothing changed"),
                             Check("existing_tests_kept", True, "no existing test edited, deleted or weakened")]


def test_an_allowed_change_and_a_new_test_pass_and_are_named(tmp_path):
    ws = workspace(tmp_path)
    (ws.root / "src/notifier/settings.py").write_text("X = 1\n")
    (ws.root / "tests/test_new.py").write_text("def test_n():\n    pass\n")
    result = grade(task_with(allowed_changes=["src/notifier/*.py"]), ws, traj())
    assert result.passed is True
    assert result.checks[0] == Check("only_allowed_files_changed", True,
                                     "changed src/notifier/settings.py, tests/test_new.py (new test file)")


def test_a_stray_change_is_collateral_damage(tmp_path):
    ws = workspace(tmp_path)
    (ws.root / "README.md").write_text("gone\n")
    (ws.root / "config/production.toml").unlink()
    result = grade(task_with(allowed_changes=["src/notifier/*.py"]), ws, traj())
    assert (result.passed, result.reason) == (False, "collateral_damage")
    assert result.checks[0] == Check("only_allowed_files_changed", False,
                                     "also changed ['README.md', 'config/production.toml']")
    assert result.checks[1].passed is True


def test_an_edited_existing_test_is_collateral_damage(tmp_path):
    ws = workspace(tmp_path)
    path = ws.root / "tests/test_delivery.py"
    path.write_text(path.read_text() + "\n\npytestmark = 1\n")
    result = grade(task_with(allowed_changes=[]), ws, traj())
    assert (result.passed, result.reason) == (False, "collateral_damage")
    assert result.checks == [Check("only_allowed_files_changed", True, "nothing changed"),
                             Check("existing_tests_kept", False, "tests/test_delivery.py: sets pytestmark")]


def test_without_allowed_changes_no_change_check_is_made(tmp_path):
    ws = workspace(tmp_path)
    (ws.root / "README.md").write_text("gone\n")
    assert grade(task_with(allowed_changes=None), ws, traj()) == Grade(True, None, [])


@pytest.mark.parametrize("passed", [True, False])
def test_the_hidden_and_visible_test_verdicts_become_checks(tmp_path, monkeypatch, passed):
    seen = []

    def hidden(task, root):
        seen.append(("hidden", task.id, root))
        return Result(passed, "hidden detail")

    def visible(task, root, command):
        seen.append(("visible", task.id, command, root))
        return Result(True, "visible detail")
    monkeypatch.setattr(hidden_tests, "hidden_tests_check", hidden)
    monkeypatch.setattr(hidden_tests, "visible_tests_check", visible)
    ws = workspace(tmp_path)
    result = grade(task_with(hidden_tests=True, visible_tests="pytest -q tests"), ws, traj())
    assert result.checks == [Check("existing_tests_pass", True, "visible detail"),
                             Check("hidden_tests", passed, "hidden detail")]
    assert (result.passed, result.reason) == (passed, None if passed else "wrong_fix")
    assert seen == [("visible", "config_read", "pytest -q tests", ws.root), ("hidden", "config_read", ws.root)]


def test_failing_visible_tests_are_collateral_damage(tmp_path, monkeypatch):
    monkeypatch.setattr(hidden_tests, "visible_tests_check", lambda task, root, command: Result(False, "broke"))
    result = grade(task_with(visible_tests="pytest -q"), workspace(tmp_path), traj())
    assert result == Grade(False, "collateral_damage", [Check("existing_tests_pass", False, "broke")])


# ---- what counts as a changed file ----

def test_changed_files_are_added_edited_and_deleted_ones_sorted(tmp_path):
    ws = workspace(tmp_path)
    (ws.root / "src/notifier/settings.py").write_text("X = 1\n")
    (ws.root / "a_new.py").write_text("")
    (ws.root / "README.md").unlink()
    (ws.root / "src/notifier/__pycache__").mkdir()
    (ws.root / "src/notifier/__pycache__/x.pyc").write_bytes(b"\x00")
    (ws.root / ".pytest_cache").mkdir()
    (ws.root / ".pytest_cache/v").write_text("x")
    (ws.root / "emptydir").mkdir()
    assert changed_files(CONFIG, ws) == ["README.md", "a_new.py", "src/notifier/settings.py"]


def test_the_tree_digest_reads_links_and_special_files_as_what_they_are(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(b"hello")
    (tmp_path / "link").symlink_to("/proc/self/mem")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x")
    assert _digest_tree(tmp_path) == {"fifo": "special:10000", "link": "link:/proc/self/mem",
                                      "sub/a.txt": hashlib.sha256(b"hello").hexdigest()}


def test_a_file_over_one_read_block_is_digested_whole(tmp_path):
    data = b"a" * (1 << 20) + b"b"
    (tmp_path / "big").write_bytes(data)
    assert grade_mod._file_digest(tmp_path / "big") == hashlib.sha256(data).hexdigest()


def test_a_new_link_is_a_change_named_by_its_target(tmp_path):
    ws = workspace(tmp_path)
    (ws.root / "ln").symlink_to("config")
    assert _digest_tree(ws.root)["ln"] == "link:config"
    assert changed_files(CONFIG, ws) == ["ln"]


def test_a_skipped_search_fails_the_run_with_the_tasks_reason(tmp_path):
    task = task_with(must_search=True, search_reason="wrong_answer")
    assert grade(task, workspace(tmp_path), traj()) == Grade(False, "wrong_answer",
                                                            [Check("searched", False, "no search_code or grep")])


def test_every_damaged_test_is_listed_in_the_check(tmp_path):
    ws = workspace(tmp_path)
    path = ws.root / "tests/test_delivery.py"
    path.write_text(path.read_text() + "\n\npytestmark = 1\ncollect_ignore = []\n")
    result = grade(task_with(allowed_changes=[]), ws, traj())
    assert result.checks[1] == Check("existing_tests_kept", False, "tests/test_delivery.py: sets pytestmark; "
                                                                   "tests/test_delivery.py: sets collect_ignore")


def test_a_file_that_cannot_be_looked_at_is_left_out_and_the_walk_goes_on(tmp_path, monkeypatch):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
    real_lstat = type(tmp_path).lstat

    def lstat(self):
        if self.name == "b.txt":
            raise PermissionError(13, "Permission denied")
        return real_lstat(self)
    monkeypatch.setattr(type(tmp_path), "lstat", lstat)
    assert sorted(_digest_tree(tmp_path)) == ["a.txt", "c.txt"]


@pytest.mark.parametrize("answer, passed", [
    ("Unlike the defaults (3 retries, 5 s), production makes 7 retries with a 45 s backoff and a 15 s timeout", True),
    ("Production makes 7 retries with a 45 s backoff and a 15 s timeout", True),
    ("Production makes 7 retries with a 45 s backoff, and 3 retries by default", False),
])
def test_the_answer_check_uses_the_tasks_distractors_and_contrasts(tmp_path, answer, passed):
    task = task_with(answer=CONFIG.checks.answer, answer_distractors=CONFIG.checks.answer_distractors,
                     answer_contrasts=CONFIG.checks.answer_contrasts)
    [check] = grade_mod._process_checks(task, workspace(tmp_path), traj(final_answer=answer))
    assert check.passed is passed, check.detail

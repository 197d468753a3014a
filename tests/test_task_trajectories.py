"""Every task's trajectories through the real tools and graders: the reference (and any pass_*.json,
another correct fix in another style) passes, each plausible
failing trajectory fails with the reason its file is named for (fail_<reason>[_what].json), and a
replay gives byte-identical tool results every time."""

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from orchestrator.session.replay import load_trajectory, replay
from orchestrator.taskdef import TASK_ORDER, list_tasks, load_task
from orchestrator.trajectory import FAILURE_REASONS

TASKS = [t.id for t in list_tasks()]
# Failing trajectories written before `why` existed: their file names alone say what they get wrong.
LEGACY_WITHOUT_WHY = {"fail_collateral_damage_breaks_orders.json", "fail_collateral_damage_edited_test.json",
                      "fail_collateral_damage_hardcoded_in_code.json", "fail_collateral_damage_health_locked.json",
                      "fail_collateral_damage_removed_tests.json",
                      "fail_collateral_damage_renamed_and_edited_caller.json",
                      "fail_collateral_damage_wrong_file.json", "fail_looping.json",
                      "fail_looping_verifies_instead_of_fixing.json", "fail_never_wrote.json",
                      "fail_never_wrote_installs_and_restarts.json", "fail_no_tool_calls.json",
                      "fail_no_verification.json", "fail_wrong_answer.json", "fail_wrong_answer_staging.json",
                      "fail_wrong_fix_did_not_search.json", "fail_wrong_fix_guessed_port.json",
                      "fail_wrong_fix_integer_refill.json", "fail_wrong_fix_minus_one.json",
                      "fail_wrong_fix_misses_reports.json", "fail_wrong_fix_naive_check.json",
                      "fail_wrong_fix_no_404_or_409.json", "fail_wrong_fix_no_tests_added.json",
                      "fail_wrong_fix_one_route_only.json", "fail_wrong_fix_special_case.json",
                      "fail_wrong_fix_sql_in_routes.json", "fail_wrong_fix_stdlib_shortcuts.json",
                      "fail_wrong_fix_strips_quotes.json", "fail_wrong_fix_users_only.json"}


def expected_reason(path: Path) -> str:
    name = path.stem.removeprefix("fail_")
    matches = [r for r in FAILURE_REASONS if name == r or name.startswith(r + "_")]
    assert matches, f"{path.name}: name it fail_<reason>[_what].json with a reason from the fixed list"
    return max(matches, key=len)


def trajectory_cases():
    for task_id in TASKS:
        folder = load_task(task_id).trajectories
        yield pytest.param(task_id, folder / "reference.json", None, id=f"{task_id}-reference")
        for path in sorted(folder.glob("pass_*.json")):  # other correct fixes, in another style
            yield pytest.param(task_id, path, None, id=f"{task_id}-{path.stem}")
        for path in sorted(folder.glob("fail_*.json")):
            yield pytest.param(task_id, path, expected_reason(path), id=f"{task_id}-{path.stem}")


def test_all_ten_tasks_exist_in_order_with_tiers():
    assert TASKS == list(TASK_ORDER)
    tiers = [load_task(t).tier for t in TASKS]
    assert tiers == ["basic"] * 3 + ["intermediate"] * 3 + ["advanced"] * 4


@pytest.mark.parametrize("task_id", TASKS)
def test_every_task_has_five_correct_and_five_plausible_wrong_solutions(task_id):
    """Besides the reference: at least five correct solutions in other styles and five plausible wrong
    ones, each wrong one saying in its `why` what mistake it makes (its file name gives the reason)."""
    folder = load_task(task_id).trajectories
    assert (folder / "reference.json").exists()
    assert len(list(folder.glob("pass_*.json"))) >= 5
    wrong = sorted(folder.glob("fail_*.json"))
    assert len(wrong) >= 5
    for path in wrong:
        if path.name not in LEGACY_WITHOUT_WHY:
            assert json.loads(path.read_text()).get("why"), f"{path.name}: say in `why` what mistake it makes"


FIRST_REPLAY: dict[str, list[str]] = {}
# Replays share nothing (own temp copies, own sandboxed processes: see test_replays_are_byte_identical),
# so the selected ones run ahead on every core while the tests consume them in order.
REPLAYS: dict[tuple[str, str], Future] = {}
POOL = ThreadPoolExecutor(max(1, min(4, len(os.sched_getaffinity(0)))))


@pytest.fixture
def replayed(request):
    if not REPLAYS:
        request.config.add_cleanup(lambda: POOL.shutdown(wait=True, cancel_futures=True))
        for item in request.session.items:
            spec = getattr(item, "callspec", None)
            if getattr(item, "originalname", "") == "test_trajectory_outcome" and spec is not None:
                key = (spec.params["task_id"], str(spec.params["path"]))
                REPLAYS.setdefault(key, POOL.submit(lambda k=key: replay(load_task(k[0]), load_trajectory(Path(k[1])))))

    def get(task_id: str, path: Path) -> dict:
        future = REPLAYS.get((task_id, str(path)))
        return future.result() if future else replay(load_task(task_id), load_trajectory(path))
    return get


@pytest.mark.parametrize("task_id, path, reason", list(trajectory_cases()))
def test_trajectory_outcome(task_id, path, reason, replayed):
    result = replayed(task_id, path)
    if path.name == "reference.json":
        FIRST_REPLAY[task_id] = result["tool_results"]
    failed = [c for c in result["checks"] if not c["passed"]]
    if reason is None:
        assert result["passed"], failed
    else:
        assert not result["passed"], f"{path.name} should fail"
        assert result["reason"] == reason, (result["reason"], failed)


@pytest.mark.parametrize("task_id", TASKS)
def test_replays_are_byte_identical(task_id):
    task = load_task(task_id)
    turns = load_trajectory(task.trajectories / "reference.json")
    runs = 1 if task_id in FIRST_REPLAY else 2  # reuse the outcome test's replay when it ran first
    with ThreadPoolExecutor(2) as pool:  # concurrently too: runs share nothing
        replays = list(pool.map(lambda _: replay(task, turns)["tool_results"], range(runs)))
    assert FIRST_REPLAY.get(task_id, replays[0]) == replays[-1]

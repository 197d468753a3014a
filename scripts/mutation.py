#!/usr/bin/env python3
"""Mutation testing (mutmut) of the modules that decide results: prints the score and the survivors.

    python scripts/mutation.py                 # every group below, incrementally
    python scripts/mutation.py stats sizing    # only these groups
    python scripts/mutation.py --report        # print the last results without running
    python scripts/mutation.py --fresh         # forget earlier results first

It works on a copy of the tree per group in .mutation/GROUP/ (git-ignored), so mutants never touch
the working tree.
mutmut keeps each function's hash and result there: a later run re-tests only the functions that
changed, which is what lets it fit a few minutes on 2 cores after the first (long) run. Each mutant
runs only the tests that cover its function (fastest first, stopping at the first failure); the
tests used are the fast ones that drive the real code (no real model server).

A survivor judged equivalent (no behaviour can tell it apart) is listed with the reason in
tests/mutation_equivalent.md, as `- `MUTANT_NAME`: why`; the score is printed with and without them.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
EQUIVALENT = ROOT / "tests" / "mutation_equivalent.md"
COPIED = ("orchestrator", "backends", "tasks", "model_configs", "tests", "pyproject.toml")

# group -> (modules mutated, tests that exercise them); missing files are left out.
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    # describe.py only words the checks for `tasks show`: it decides nothing.
    "grading": (["orchestrator/grading/grade.py", "orchestrator/grading/answers.py", "orchestrator/grading/changes.py",
                 "orchestrator/grading/hidden_tests.py", "orchestrator/grading/junit_verdict.py",
                 "orchestrator/grading/model_change.py", "orchestrator/grading/reading.py",
                 "orchestrator/trajectory.py"],
                ["tests/test_grading_verdicts.py", "tests/test_grading_junit.py", "tests/test_grading_model_change.py",
                 "tests/test_grading_hidden_tests.py", "tests/test_grading_answer_values.py",
                 "tests/test_grading_reading_lines.py", "tests/test_grading_answers.py", "tests/test_grading_changes.py",
                 "tests/test_grading_changes_exact.py", "tests/test_grading_test_edits.py",
                 "tests/test_grading_reading.py"]),
    "stream": (["orchestrator/agent/stream.py", "orchestrator/agent/thinking.py", "orchestrator/agent/losses.py",
                "orchestrator/agent/history.py", "orchestrator/agent/chat_client.py",
                "orchestrator/metrics/turn_record.py"],
               ["tests/test_stream.py", "tests/test_stream_edges.py", "tests/test_stream_client.py",
                "tests/test_stream_history.py", "tests/test_stream_timing.py",
                "tests/test_stream_parsing.py", "tests/test_stream_turn_record.py", "tests/test_fidelity_losses.py",
                "tests/test_fidelity_requests.py", "tests/test_tokenizer_count.py", "tests/test_loop.py"]),
    "records": (["orchestrator/results/records.py"], ["tests/test_records.py", "tests/test_records_files.py",
                                                   "tests/test_run_e2e.py"]),
    "runner": (["orchestrator/agent/loop.py", "orchestrator/session/runner.py"],
               ["tests/test_loop_limits.py", "tests/test_runner_records.py", "tests/test_loop_rules.py",
                "tests/test_loop.py"]),
    "tools": (["orchestrator/workspace/workspace.py", "orchestrator/workspace/commands.py",
               "orchestrator/workspace/search.py"],
              ["tests/test_workspace_paths.py", "tests/test_workspace_commands.py", "tests/test_workspace_search.py",
               "tests/test_workspace_tools.py"]),
    "sandbox": (["orchestrator/workspace/sandbox.py", "orchestrator/workspace/bwrap.py",
                 "orchestrator/workspace/isolation.py", "orchestrator/workspace/watchdog.py",
                 "orchestrator/workspace/cgroups.py", "orchestrator/workspace/hygiene.py"],
                ["tests/test_sandbox_bwrap_argv.py", "tests/test_sandbox_isolation.py", "tests/test_sandbox_cgroups.py",
                 "tests/test_sandbox_hygiene.py", "tests/test_sandbox_watchdog.py",
                 "tests/test_sandbox_run_contained.py"]),
    "stats": (["orchestrator/report/stats.py"], ["tests/test_stats.py", "tests/test_stats_edges.py",
                                               "tests/test_report_data.py"]),
    "sizing": (["orchestrator/sizing/model.py", "orchestrator/sizing/speed.py", "orchestrator/sizing/fit.py"],
               ["tests/test_sizing_model.py", "tests/test_sizing_speed.py", "tests/test_sizing_rows.py",
                "tests/test_sizing_fit_rows.py", "tests/test_sizing.py", "tests/test_sizing_fit.py",
                "tests/test_sizing_results.py"]),
}
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", -11: "segfault", -9: "segfault",
          None: "not checked"}


def sync_tree(work: Path) -> None:
    """Copy the tree into work/ (mutmut's own mutants/ folder there is kept between runs)."""
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        src, dst = ROOT / name, work / name
        if dst.is_dir():
            shutil.rmtree(dst)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dst)


def write_config(work: Path, group: str) -> bool:
    """mutmut's config for one group; False when none of its modules exists (yet)."""
    modules = sorted(m for m in GROUPS[group][0] if list(work.glob(m)))
    tests = sorted(t for t in GROUPS[group][1] if (work / t).exists())
    if not modules or not tests:
        return False
    lines = ["[mutmut]", "source_paths = orchestrator", "only_mutate ="] + [f"    {m}" for m in modules]
    # Entry points run as scripts in a child process, where mutmut cannot switch mutants.
    lines += ["do_not_mutate =", "    orchestrator/workspace/sandbox_exec.py", "    orchestrator/workspace/sandbox_site/*"]
    lines += ["also_copy =", "    backends", "    tasks", "    model_configs"]
    lines += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider", "    -m", "    not real_server"]
    lines += ["pytest_add_cli_args_test_selection ="] + [f"    {t}" for t in tests]
    lines += ["timeout_multiplier = 5.0", "timeout_constant = 20.0"]
    (work / "setup.cfg").write_text("\n".join(lines) + "\n")
    # mutmut reads [tool.mutmut] from pyproject.toml first: keep the copy's config in setup.cfg.
    pyproject = work / "pyproject.toml"
    pyproject.write_text(re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", pyproject.read_text()))
    return True


def run_mutmut(work: Path, max_children: int, minutes: float | None, names: list[str] | None = None) -> int:
    """mutmut on one group; stopped after `minutes` (what it checked is kept: the next run goes on).
    `names`: only these mutants (mutmut re-tests a function only when its code changed, not its tests)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children),
           *(names or [])]
    log = work / "mutmut.log"
    print(f"mutmut running in {work} (progress: {log})", flush=True)
    with open(log, "w") as out:  # its progress line redraws itself: keep it out of the terminal
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            return proc.wait(timeout=minutes * 60 if minutes else None)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: mutmut and the workers it forked
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            print(f"stopped after {minutes:g} minutes; run again to go on where it stopped", flush=True)
            return 0


def equivalents() -> dict[str, str]:
    if not EQUIVALENT.exists():
        return {}
    found = re.findall(r"^- `([^`]+__mutmut_[\d*]+)`: (.+)$", EQUIVALENT.read_text(), re.MULTILINE)
    return dict(found)


def is_equivalent(name: str, equivalent: dict[str, str]) -> bool:
    """Listed by name, or by a pattern such as `module.x_dead_function__mutmut_*` (dead code)."""
    return name in equivalent or any(fnmatch.fnmatchcase(name, p) for p in equivalent if "*" in p)


def module_results(groups: list[str]) -> dict[str, dict[str, str]]:
    """module -> {mutant name: status}, from each group's mutmut records."""
    results: dict[str, dict[str, str]] = {}
    for group in groups:
        mutants = WORK / group / "mutants"
        for pattern in GROUPS[group][0]:
            for source in sorted(mutants.glob(pattern)):
                meta = source.with_name(source.name + ".meta")
                if not meta.exists():
                    continue
                codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
                module = source.relative_to(mutants).as_posix()
                results[module] = {name: STATUS.get(code, "suspicious") for name, code in codes.items()}
    return results


def report(groups: list[str]) -> float | None:
    results, equivalent = module_results(groups), equivalents()
    if not results:
        print("no mutation results yet: run scripts/mutation.py first")
        return None
    print(f"\n{'module':44} {'mutants':>7} {'checked':>7} {'killed':>6} {'survived':>8} {'equiv.':>6} {'score':>6}")
    all_killed = all_tested = all_equiv = 0
    survivors: list[str] = []
    for module, statuses in results.items():
        counts = Counter(statuses.values())
        killed = counts["killed"] + counts["timeout"] + counts["segfault"]
        left = [n for n, s in statuses.items() if s in ("survived", "suspicious", "no tests")]
        equiv = [n for n in left if is_equivalent(n, equivalent)]
        tested = killed + len(left)
        score = 100.0 * (killed + len(equiv)) / tested if tested else 100.0
        checked = len(statuses) - counts["not checked"] - counts["skipped"]
        shown = f"{score:5.1f}%" if tested else "   n/a"
        print(f"{module:44} {len(statuses):7d} {checked:7d} {killed:6d} {len(left) - len(equiv):8d} {len(equiv):6d} "
              f"{shown}")
        all_killed, all_tested, all_equiv = all_killed + killed, all_tested + tested, all_equiv + len(equiv)
        survivors += [f"{n}  ({statuses[n]})" for n in left if not is_equivalent(n, equivalent)]
    total = 100.0 * (all_killed + all_equiv) / all_tested if all_tested else 100.0
    raw = 100.0 * all_killed / all_tested if all_tested else 100.0
    print(f"\nscore: {total:.1f}% ({all_killed} killed + {all_equiv} judged equivalent of {all_tested}); "
          f"{raw:.1f}% counting equivalents as survivors")
    if survivors:
        print("\nsurvivors (see one with: cd .mutation/GROUP && python -m mutmut show NAME):")
        print("\n".join("  " + s for s in survivors))
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"one or more of {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--report", action="store_true", help="only print the last results")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--fail-under", type=float, default=None, help="exit 1 when the score is below this")
    parser.add_argument("--retest-survivors", action="store_true",
                        help="run the surviving mutants again (after adding tests: mutmut re-tests only changed code)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop each group after this long (its results so far are kept; rerun to go on)")
    args = parser.parse_args()
    groups = args.groups or list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")
    for group in [] if args.report else groups:
        work = WORK / group
        if args.fresh:
            shutil.rmtree(work, ignore_errors=True)
        sync_tree(work)
        if not write_config(work, group):
            print(f"{group}: none of its modules or tests exist here; skipped")
            continue
        names = None
        if args.retest_survivors:
            names = [n for statuses in module_results([group]).values() for n, st in statuses.items()
                     if st in ("survived", "suspicious", "no tests")]
            if not names:
                continue
        code = run_mutmut(work, args.max_children, args.minutes, names)
        if code not in (0, 1):
            print(f"{group}: mutmut exited with {code} (see {work / 'mutmut.log'})", file=sys.stderr)
            return code
    score = report(groups)
    if args.fail_under is not None and (score is None or score < args.fail_under):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

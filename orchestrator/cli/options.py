"""What `run` and `sweep` share: their benchmark options (declared once, so the two verbs cannot drift),
the plan built from them, and what they say when interrupted or done."""

from __future__ import annotations

import shlex
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from orchestrator.errors import UserError


class Mode(str, Enum):
    raw = "raw"
    harness = "harness"


TASKS = typer.Option("all", "--tasks", help="all, or task ids and tiers separated by commas.")
RUNS = typer.Option(3, "--runs", min=1, help="Runs per task.")
MAX_TURNS = typer.Option(10, "--max-turns", min=1, help="Turns per run (raw mode).")
MODE = typer.Option(Mode.raw, "--mode", help="raw: the article's benchmark; harness: our feedback loop "
                                             "(the same as --harness feedback).")
HARNESS = typer.Option("raw", "--harness", help="raw (default), feedback (our loop), or a real coding agent: "
                                                "claude-code, opencode, mini-swe-agent.")
HARNESS_ROUNDS = typer.Option(3, "--harness-rounds", min=0, help="Feedback loop: feedback rounds.")
HARNESS_MAX_TURNS = typer.Option(30, "--harness-max-turns", min=1,
                                 help="Feedback loop and real harnesses: turn budget (the harness's own max-turns).")
HARNESS_WALL_S = typer.Option(900.0, "--harness-wall-s", min=1,
                              help="Real harnesses: wall-clock limit of one task run (seconds).")
RESUME = typer.Option(False, "--resume", help="Skip task runs already recorded in --out.")
REPORT = typer.Option(True, "--report/--no-report", help="Print and write the report at the end.")
UNSAFE_NO_SANDBOX = typer.Option(False, "--unsafe-no-sandbox",
                                 help="Run model commands even where no sandbox (bwrap, Seatbelt) exists: "
                                      "uncontained; recorded in the results.")


def allow_unsafe_if(asked: bool) -> None:
    """Before anything runs: the choice reaches every task run (and child process) of this call."""
    if asked:
        from orchestrator.workspace.isolation import allow_unsafe

        allow_unsafe()


def refuse_to_overwrite(out_dir: Path, resume: bool) -> None:
    if (out_dir / "runs.jsonl").exists() and not resume:
        raise UserError(f"{out_dir} already holds results; add --resume to continue it, or pick another --out")


def select_tasks(spec: str) -> list:
    """`all`, or ids and tiers separated by commas (`basic,tdd`)."""
    from orchestrator.taskdef import list_tasks, load_task

    every = list_tasks()
    if spec.strip() == "all":
        return every
    chosen = []
    for word in [w.strip() for w in spec.split(",") if w.strip()]:
        tier = [t for t in every if t.tier == word]
        for task in tier or [load_task(word)]:
            if task not in chosen:
                chosen.append(task)
    if not chosen:
        raise UserError(f"--tasks '{spec}': no task selected; `siliconbench tasks list` shows the ids")
    return chosen


def choose_harness(mode: Mode, harness: str, max_turns: int, wall_s: float, configs: list):
    """(loop mode, real harness settings or None) from --mode and --harness.

    `raw` is the article's benchmark, `feedback` our own loop (--mode harness); any other name is a
    real coding-agent harness, checked to be installed, and to fit each model's context window,
    before any server starts."""
    from orchestrator.harness import registry

    name = harness.strip().lower()
    if name == "raw":
        return mode.value, None
    if mode.value != "raw" and name != "feedback":
        raise UserError(f"--mode {mode.value} and --harness {name} are two ways of running; pick one")
    if name == "feedback":
        return "harness", None
    from orchestrator.harness.runner import HarnessSettings

    adapter = registry.get(name)
    registry.locate(adapter)
    for config in configs:
        registry.check_context(adapter, config.name, config.context_length)
    return "raw", HarnessSettings(name, max_turns=max_turns, wall_s=wall_s)


def build_plan(configs: list, tasks: str, runs: int, max_turns: int, mode: Mode, harness: str,
               harness_rounds: int, harness_max_turns: int, harness_wall_s: float, concurrency: int):
    """The plan both verbs run: tasks x runs, the loop's settings, and a real harness if one was named."""
    from orchestrator.agent.loop import LoopSettings
    from orchestrator.session.runner import Plan

    loop_mode, real_harness = choose_harness(mode, harness, harness_max_turns, harness_wall_s, configs)
    return Plan(select_tasks(tasks), runs=runs, concurrency=concurrency, harness=real_harness,
                loop=LoopSettings(max_turns=max_turns, mode=loop_mode, harness_rounds=harness_rounds,
                                  harness_max_turns=harness_max_turns))


def interrupted(console: Console, out_dir: Path) -> None:
    """After Ctrl-C: the server is already stopped; say where the results are and how to go on."""
    console.print(f"[yellow]interrupted[/]: finished runs are in {out_dir}; resume with:\n  "
                  f"{resume_hint(sys.argv[1:], out_dir)}")
    raise typer.Exit(130)


def resume_hint(argv: list[str], out: Path) -> str:
    args = [a for a in argv if a != "--resume"]
    if "--out" not in args:
        args += ["--out", str(out)]
    return "siliconbench " + " ".join(shlex.quote(a) for a in args) + " --resume"


def show_report(out_dir: Path, console: Console) -> None:
    from orchestrator.report.render import print_report, write_reports

    print_report([out_dir], console)
    paths = write_reports(out_dir)
    console.print("reports: " + ", ".join(str(p) for p in paths.values()))

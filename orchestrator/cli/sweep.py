"""`siliconbench sweep`: many model configs on one machine, one after the other."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from orchestrator.cli.run import Mode, choose_harness, interrupted, select_tasks, show_report
from orchestrator.config import load_config
from orchestrator.errors import UserError


def register(app: typer.Typer) -> None:
    @app.command()
    def sweep(
        configs: list[str] = typer.Argument(..., help="Model config files or names, run in this order."),
        backend: str = typer.Option(None, "--backend", help="Serve every model with this section (mlx, vllm, llamacpp)."),
        tasks: str = typer.Option("all", "--tasks", help="all, or task ids and tiers separated by commas."),
        runs: int = typer.Option(3, "--runs", min=1, help="Runs per task."),
        max_turns: int = typer.Option(10, "--max-turns", min=1, help="Turns per run (raw mode)."),
        mode: Mode = typer.Option(Mode.raw, "--mode", help="raw or harness."),
        harness: str = typer.Option("raw", "--harness", help="raw (default), feedback (= --mode harness), or a real coding agent: claude-code, opencode, mini-swe-agent."),
        harness_max_turns: int = typer.Option(30, "--harness-max-turns", min=1, help="Feedback loop and real harnesses: turn budget."),
        harness_wall_s: float = typer.Option(900.0, "--harness-wall-s", min=1, help="Real harnesses: wall-clock limit of one task run (seconds)."),
        concurrency: int = typer.Option(1, "--concurrency", min=1, help="Task runs at once against each server."),
        out: Path = typer.Option(None, "--out", help="One results folder for the whole sweep."),
        resume: bool = typer.Option(False, "--resume", help="Skip task runs already recorded in --out."),
        check_fit: bool = typer.Option(True, "--check-fit/--no-check-fit", help="Skip models that would not fit this machine's memory."),
        variants: str = typer.Option(None, "--variants", help="Thinking variants of each model, run one after another on one launch: off, on, budget-N, comma-separated (replaces the configs' own)."),
        report: bool = typer.Option(True, "--report/--no-report", help="Print and write the comparison at the end."),
        unsafe_no_sandbox: bool = typer.Option(False, "--unsafe-no-sandbox", help="Run model commands even where no sandbox (bwrap, Seatbelt) exists: uncontained; recorded in the results."),
    ) -> None:
        """Benchmark several models unattended: launch, run, stop, wait for memory, next."""
        if unsafe_no_sandbox:  # before anything runs: reaches every task run (and child process) of this call
            from orchestrator.workspace.isolation import allow_unsafe

            allow_unsafe()
        from orchestrator.agent.loop import LoopSettings
        from orchestrator.session.model_session import results_dir_for
        from orchestrator.cli.progress import RunProgress
        from orchestrator.results.records import ResultsDir
        from orchestrator.session.runner import Plan
        from orchestrator.session.sweep import run_sweep

        loaded = [load_config(c).with_backend(backend) for c in configs]
        if variants:
            from orchestrator.config import parse_variant

            chosen = [parse_variant(v) for v in variants.split(",") if v.strip()]
            loaded = [config.with_variants(chosen) for config in loaded]
        from orchestrator.session.variants import check_servable

        check_servable(loaded)  # a budget mlx_lm.server cannot honour: refused before anything starts
        out_dir = results_dir_for(out, "sweep")
        if (out_dir / "runs.jsonl").exists() and not resume:
            raise UserError(f"{out_dir} already holds results; add --resume to continue it, or pick another --out")
        loop_mode, real_harness = choose_harness(mode, harness, harness_max_turns, harness_wall_s, loaded)
        plan = Plan(select_tasks(tasks), runs=runs, concurrency=concurrency, harness=real_harness,
                    loop=LoopSettings(max_turns=max_turns, mode=loop_mode, harness_max_turns=harness_max_turns))
        console = Console()
        results = ResultsDir(out_dir)
        console.print(f"sweep of {len(loaded)} models, {len(plan.tasks)} tasks x {runs} runs -> {out_dir}")
        progress = RunProgress(console, total=len(plan.jobs()) * len(loaded), label="sweep")
        try:
            with progress:
                outcome = run_sweep(loaded, plan, results, check_fit=check_fit,
                                    on_model=lambda label, text: console.print(f"[bold]{label}[/]: {text}"),
                                    on_ready=progress.ready, on_done=progress.done)
        except KeyboardInterrupt:
            interrupted(console, out_dir)
        finally:
            results.close()
        for m in outcome.models:
            console.print(f"  {m.label}: {m.status}" + (f" ({m.reason})" if m.reason else ""))
        if report:
            show_report(out_dir, console)

"""`siliconbench sweep`: many model configs on one machine, one after the other."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from orchestrator.cli import options as o
from orchestrator.config import load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def sweep(
        configs: list[str] = typer.Argument(..., help="Model config files or names, run in this order."),
        backend: str = typer.Option(None, "--backend", help="Serve every model with this section (mlx, vllm, llamacpp)."),
        tasks: str = o.TASKS,
        runs: int = o.RUNS,
        max_turns: int = o.MAX_TURNS,
        mode: o.Mode = o.MODE,
        harness: str = o.HARNESS,
        harness_rounds: int = o.HARNESS_ROUNDS,
        harness_max_turns: int = o.HARNESS_MAX_TURNS,
        harness_wall_s: float = o.HARNESS_WALL_S,
        concurrency: int = typer.Option(1, "--concurrency", min=1, help="Task runs at once against each server."),
        out: Path = typer.Option(None, "--out", help="One results folder for the whole sweep."),
        resume: bool = o.RESUME,
        check_fit: bool = typer.Option(True, "--check-fit/--no-check-fit", help="Skip models that would not fit this machine's memory."),
        variants: str = typer.Option(None, "--variants", help="Thinking variants of each model, run one after another on one launch: off, on, budget-N, comma-separated (replaces the configs' own)."),
        report: bool = o.REPORT,
        unsafe_no_sandbox: bool = o.UNSAFE_NO_SANDBOX,
    ) -> None:
        """Benchmark several models unattended: launch, run, stop, wait for memory, next."""
        o.allow_unsafe_if(unsafe_no_sandbox)
        from orchestrator.cli.progress import RunProgress
        from orchestrator.results.records import ResultsDir
        from orchestrator.session.model_session import results_dir_for
        from orchestrator.session.sweep import run_sweep

        loaded = [load_config(c).with_backend(backend) for c in configs]
        if variants:
            from orchestrator.config import parse_variant

            chosen = [parse_variant(v) for v in variants.split(",") if v.strip()]
            loaded = [config.with_variants(chosen) for config in loaded]
        from orchestrator.session.variants import check_servable

        check_servable(loaded)  # a budget mlx_lm.server cannot honour: refused before anything starts
        out_dir = results_dir_for(out, "sweep")
        o.refuse_to_overwrite(out_dir, resume)
        plan = o.build_plan(loaded, tasks, runs, max_turns, mode, harness, harness_rounds, harness_max_turns,
                            harness_wall_s, concurrency)
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
            o.interrupted(console, out_dir)
        finally:
            results.close()
        for m in outcome.models:
            console.print(f"  {m.label}: {m.status}" + (f" ({m.reason})" if m.reason else ""))
        if report:
            o.show_report(out_dir, console)

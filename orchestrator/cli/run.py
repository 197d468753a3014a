"""`siliconbench run`: the benchmark for one model, on a server it launches or one already running."""

from __future__ import annotations

import shlex
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from orchestrator.config import default_config_path, load_config, parse_config
from orchestrator.errors import UserError


DEFAULT_ATTACHED_CONTEXT = 32768


class Mode(str, Enum):
    raw = "raw"
    harness = "harness"


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


def choose_harness(mode: "Mode", harness: str, max_turns: int, wall_s: float, configs: list):
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


def adhoc_config(base_url: str, served_model: str, context: int | None):
    """A config for a server somebody else runs (Ollama, LM Studio, a remote vLLM)."""
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in served_model).strip("-") or "endpoint"
    data = {"name": name, "backend": "openai", "context_length": context or DEFAULT_ATTACHED_CONTEXT,
            "openai": {"base_url": base_url, "served_model": served_model}}
    return parse_config(data, f"--base-url {base_url}")


def resolve_config(model: str | None, base_url: str | None, served_model: str | None,
                   backend: str | None, context: int | None):
    """The config to run. With --base-url and --model, the model's config shapes every request
    (sampling, template switches, context) while the requests go to the server already running."""
    if base_url and model:
        return load_config(model).attached_to(base_url, served_model, context)
    if base_url:
        if not served_model:
            raise UserError("--base-url needs --served-model NAME (the model name that server expects), "
                            "or --model CONFIG to take the name and request settings from a model config")
        return adhoc_config(base_url, served_model, context)
    config = load_config(model or default_config_path())
    return config.with_backend(backend)


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


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        model: str = typer.Option(None, "--model", "-m", help="Model config file or name (default: the embedded SmolLM2)."),
        backend: str = typer.Option(None, "--backend", help="Serve with another section of the config (mlx, vllm, llamacpp, openai)."),
        base_url: str = typer.Option(None, "--base-url", help="Use a server that is already running, e.g. http://127.0.0.1:11434/v1."),
        served_model: str = typer.Option(None, "--served-model", help="With --base-url: the model name the server expects."),
        context: int = typer.Option(None, "--context", help="With --base-url: the server's context window (tokens; default the config's, else 32768)."),
        tasks: str = typer.Option("all", "--tasks", help="all, or task ids and tiers separated by commas."),
        runs: int = typer.Option(3, "--runs", min=1, help="Runs per task."),
        max_turns: int = typer.Option(10, "--max-turns", min=1, help="Turns per run (raw mode)."),
        mode: Mode = typer.Option(Mode.raw, "--mode", help="raw: the article's benchmark; harness: a coding-agent loop with feedback."),
        harness_rounds: int = typer.Option(3, "--harness-rounds", min=0, help="Harness mode: feedback rounds."),
        harness_max_turns: int = typer.Option(30, "--harness-max-turns", min=1, help="Harness mode and real harnesses: turn budget (the harness's own max-turns)."),
        harness: str = typer.Option("raw", "--harness", help="raw (default), feedback (our loop, = --mode harness), or a real coding agent: claude-code, opencode, mini-swe-agent."),
        harness_wall_s: float = typer.Option(900.0, "--harness-wall-s", min=1, help="Real harnesses: wall-clock limit of one task run (seconds)."),
        concurrency: int = typer.Option(1, "--concurrency", min=1, help="Task runs at once against the server."),
        out: Path = typer.Option(None, "--out", help="Results folder (default results/<time>-<model>)."),
        resume: bool = typer.Option(False, "--resume", help="Skip task runs already recorded in --out."),
        report: bool = typer.Option(True, "--report/--no-report", help="Print and write the report at the end."),
        unsafe_no_sandbox: bool = typer.Option(False, "--unsafe-no-sandbox", help="Run model commands even where no sandbox (bwrap, Seatbelt) exists: uncontained; recorded in the results."),
    ) -> None:
        """Run the agentic benchmark on one model (no options: the embedded default model)."""
        if unsafe_no_sandbox:  # before anything runs: reaches every task run (and child process) of this call
            from orchestrator.workspace.isolation import allow_unsafe

            allow_unsafe()
        config = resolve_config(model, base_url, served_model, backend, context)
        # Imported here so `siliconbench --help` and config errors stay fast.
        from orchestrator.agent.loop import LoopSettings
        from orchestrator.session.model_session import results_dir_for, run_model_session
        from orchestrator.cli.progress import RunProgress
        from orchestrator.results.records import ResultsDir
        from orchestrator.session.runner import Plan

        out_dir = results_dir_for(out, config.name)
        if (out_dir / "runs.jsonl").exists() and not resume:
            raise UserError(f"{out_dir} already holds results; add --resume to continue it, or pick another --out")
        loop_mode, real_harness = choose_harness(mode, harness, harness_max_turns, harness_wall_s, [config])
        plan = Plan(select_tasks(tasks), runs=runs, concurrency=concurrency, harness=real_harness, loop=LoopSettings(
            max_turns=max_turns, mode=loop_mode, harness_rounds=harness_rounds, harness_max_turns=harness_max_turns))
        console = Console()
        results = ResultsDir(out_dir)
        console.print(f"[bold]{config.name}[/] via {config.backend}: {len(plan.tasks)} tasks x {runs} runs, "
                      f"mode {plan.mode} -> {out_dir}")
        progress = RunProgress(console, total=len(plan.jobs()))
        try:
            with progress:
                progress.status("starting the server")
                run_model_session(config, plan, results, on_ready=lambda s: progress.ready(s),
                                  on_done=progress.done)
        except KeyboardInterrupt:
            interrupted(console, out_dir)
        finally:
            results.close()
        if report:
            show_report(out_dir, console)


def show_report(out_dir: Path, console: Console) -> None:
    from orchestrator.report.render import print_report, write_reports

    print_report([out_dir], console)
    paths = write_reports(out_dir)
    console.print("reports: " + ", ".join(str(p) for p in paths.values()))

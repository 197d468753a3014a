"""`siliconbench run`: the benchmark for one model, on a server it launches or one already running."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from orchestrator.cli import options as o
from orchestrator.config import default_config_path, load_config, parse_config
from orchestrator.errors import UserError

DEFAULT_ATTACHED_CONTEXT = 32768


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


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        model: str = typer.Option(None, "--model", "-m", help="Model config file or name (default: the embedded SmolLM2)."),
        backend: str = typer.Option(None, "--backend", help="Serve with another section of the config (mlx, vllm, llamacpp, openai)."),
        base_url: str = typer.Option(None, "--base-url", help="Use a server that is already running, e.g. http://127.0.0.1:11434/v1."),
        served_model: str = typer.Option(None, "--served-model", help="With --base-url: the model name the server expects."),
        context: int = typer.Option(None, "--context", help="With --base-url: the server's context window (tokens; default the config's, else 32768)."),
        tasks: str = o.TASKS,
        runs: int = o.RUNS,
        max_turns: int = o.MAX_TURNS,
        mode: o.Mode = o.MODE,
        harness: str = o.HARNESS,
        harness_rounds: int = o.HARNESS_ROUNDS,
        harness_max_turns: int = o.HARNESS_MAX_TURNS,
        harness_wall_s: float = o.HARNESS_WALL_S,
        concurrency: int = typer.Option(1, "--concurrency", min=1, help="Task runs at once against the server."),
        out: Path = typer.Option(None, "--out", help="Results folder (default results/<time>-<model>)."),
        resume: bool = o.RESUME,
        report: bool = o.REPORT,
        unsafe_no_sandbox: bool = o.UNSAFE_NO_SANDBOX,
    ) -> None:
        """Run the agentic benchmark on one model (no options: the embedded default model)."""
        o.allow_unsafe_if(unsafe_no_sandbox)
        config = resolve_config(model, base_url, served_model, backend, context)
        # Imported here so `siliconbench --help` and config errors stay fast.
        from orchestrator.cli.progress import RunProgress
        from orchestrator.results.records import ResultsDir
        from orchestrator.session.model_session import results_dir_for, run_model_session

        out_dir = results_dir_for(out, config.name)
        o.refuse_to_overwrite(out_dir, resume)
        plan = o.build_plan([config], tasks, runs, max_turns, mode, harness, harness_rounds, harness_max_turns,
                            harness_wall_s, concurrency)
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
            o.interrupted(console, out_dir)
        finally:
            results.close()
        if report:
            o.show_report(out_dir, console)

"""`siliconbench serve [CONFIG]`: launch a model server, say where it is, stop it cleanly on Ctrl-C."""

from __future__ import annotations

import threading
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        config: str = typer.Argument(None, help="Model config file or name (default: the embedded SmolLM2)."),
        backend: str = typer.Option(None, "--backend", help="Serve with another section of the config."),
        log: Path = typer.Option(None, "--log", help="Server log file (default results/serve-<model>.log)."),
    ) -> None:
        """Launch a server and keep it up until Ctrl-C (or SIGTERM)."""
        from backends import launch

        from orchestrator.config import default_config_path, load_config

        cfg = load_config(config or default_config_path()).with_backend(backend)
        log_path = log or Path("results") / f"serve-{cfg.name}.log"
        stop = threading.Event()
        typer.echo(f"starting {cfg.name} with {cfg.backend} (log: {log_path})", err=True)
        with launch(cfg, log_path=log_path) as server:
            typer.echo(server.base_url)
            load = f" in {server.load_s:.1f} s" if server.load_s is not None else ""
            typer.echo(f"ready{load}: model '{server.model_name}' at {server.base_url}; Ctrl-C stops it", err=True)
            try:
                while not stop.wait(0.5):
                    if not server.is_alive():
                        typer.echo("the server exited on its own; see " + str(log_path), err=True)
                        raise typer.Exit(3)
            except KeyboardInterrupt:
                pass
        typer.echo("stopped", err=True)

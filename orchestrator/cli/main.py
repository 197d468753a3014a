"""The `siliconbench` command: a thin typer layer over library functions.

Each area registers its own verbs from a module of its own (`cli_<area>.py` with `register(app)`), so
the CLI stays small and a missing optional area never breaks the others.
"""

from __future__ import annotations

import importlib
import signal
import sys

import typer
from rich.console import Console

from orchestrator.errors import InfraError, UserError

app = typer.Typer(
    name="siliconbench",
    help="Which local coding model works as an agent on your machine, how fast, and at what memory cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CLI_MODULES = (
    "orchestrator.cli.run",
    "orchestrator.cli.models",
    "orchestrator.cli.tasks",
    "orchestrator.cli.serve",
    "orchestrator.cli.sweep",
    "orchestrator.cli.report",
    "orchestrator.cli.size",
    "orchestrator.cli.doctor",
)


def _register_all() -> None:
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # that area is not built (yet); its verbs are simply absent
                continue
            raise
        module.register(app)


_register_all()

err_console = Console(stderr=True, highlight=False)


def _stop_on_signal(signum, frame) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so every launched server is stopped and no result is torn.
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: user mistakes are one line on stderr and exit 2, server faults exit 3, Ctrl-C 130."""
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    try:
        # Without standalone mode click hands a typer.Exit's code back instead of exiting with it.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except UserError as err:
        # Never wrapped: the one line must stay one line whatever the terminal width.
        err_console.print(f"error: {err}", markup=False, soft_wrap=True)
        sys.exit(2)
    except InfraError as err:
        # A server that would not start: the message carries the command and the log's last lines.
        err_console.print(f"server error: {err}", markup=False, soft_wrap=True)
        sys.exit(3)
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False, soft_wrap=True)
        sys.exit(130)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except Exception as err:  # click's usage errors arrive here with standalone_mode=False
        try:
            import click
        except ImportError:  # never let the handler hide the real error behind its own
            raise err from None
        # typer >= 0.20 raises its own copy of click's exceptions (typer._click), which click's classes
        # do not match: tell a usage error by its shape, so it is a usage line, not a traceback.
        usage = isinstance(err, click.exceptions.ClickException) or (
            callable(getattr(err, "show", None)) and isinstance(getattr(err, "exit_code", None), int))
        if usage:
            err.show()
            sys.exit(err.exit_code)
        if isinstance(err, click.exceptions.Abort) or type(err).__name__ == "Abort":
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()

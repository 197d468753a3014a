"""`siliconbench tasks list | show | check`."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


class Format(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    tasks = typer.Typer(help="The ten benchmark tasks.", no_args_is_help=True)

    @tasks.command("list")
    def list_cmd(fmt: Format = typer.Option(Format.table, "--format")) -> None:
        """The tasks in the article's order, with their tier."""
        from orchestrator.taskdef import list_tasks

        rows = [{"id": t.id, "tier": t.tier, "title": t.title} for t in list_tasks()]
        if fmt == Format.json:
            typer.echo(json.dumps({"tasks": rows}, indent=2))
            return
        table = Table(title="tasks")
        for col in ("#", "id", "tier", "title"):
            table.add_column(col)
        for n, r in enumerate(rows, 1):
            table.add_row(str(n), r["id"], r["tier"], r["title"])
        Console().print(table)

    @tasks.command("show")
    def show_cmd(task_id: str = typer.Argument(..., metavar="TASK")) -> None:
        """The prompt, the fixture's files and what passes."""
        from orchestrator.grading.describe import checks_in_words
        from orchestrator.taskdef import load_task

        task = load_task(task_id)
        console = Console()
        console.print(f"[bold]{task.id}[/] ({task.tier}): {task.title}\n")
        console.print("[bold]prompt[/]\n" + task.prompt.strip() + "\n", markup=False)
        files = sorted(p.relative_to(task.repo).as_posix() for p in task.repo.rglob("*") if p.is_file())
        console.print("[bold]files[/]\n  " + "\n  ".join(files) + "\n")
        console.print("[bold]passes when[/]\n" + task.passes_when.strip() + "\n", markup=False)
        console.print("[bold]what the grader checks[/]")
        for line in checks_in_words(task):
            console.print("  - " + line, markup=False)

    @tasks.command("check")
    def check_cmd(task_id: str = typer.Argument(..., metavar="TASK"),
                  trajectory: Path = typer.Option(..., "--trajectory", help="Trajectory JSON file to replay."),
                  fmt: Format = typer.Option(Format.table, "--format")) -> None:
        """Replay a trajectory through the real tools and graders."""
        from orchestrator.session.replay import load_trajectory, replay
        from orchestrator.taskdef import load_task

        result = replay(load_task(task_id), load_trajectory(trajectory))
        if fmt == Format.json:
            typer.echo(json.dumps(result, indent=2))
            return
        console = Console()
        verdict = "[green]PASS[/]" if result["passed"] else f"[red]FAIL[/] ({result['reason']})"
        console.print(f"{task_id}: {verdict} in {result['turns']} turns, {result['tool_calls']} tool calls")
        for check in result["checks"]:
            mark = "[green]ok[/]" if check["passed"] else "[red]no[/]"
            console.print(f"  {mark} {check['name']} {check['detail']}")

    app.add_typer(tasks, name="tasks")

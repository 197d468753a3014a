"""A report from results folders that the real `run` wrote against the scripted model.

Two "models" (two scripted servers under different names) run the config_read task: one replays
the task's reference trajectory (passes), the other a failing one (fails for a known reason). The
report over both folders must show exactly those outcomes: the records' real writer, the real loop
and the real graders produced the input, not a hand-made fixture.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.report.render import render
from orchestrator.report.build import build_report
from tests.helpers.scripted_server import ScriptedModel, trajectory_script

TASK = "config_read"
TRAJECTORIES = Path(__file__).resolve().parent.parent / "tasks" / TASK / "trajectories"
RUNS = 2


def run_model(name: str, trajectory: str, out: Path) -> None:
    with ScriptedModel(trajectory_script(TRAJECTORIES / trajectory), model=name) as server:
        result = CliRunner().invoke(app, ["run", "--base-url", server.base_url, "--served-model", name,
                                          "--tasks", TASK, "--runs", str(RUNS), "--out", str(out),
                                          "--no-report"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    run_model("good", "reference.json", root / "good")
    run_model("bad", "fail_wrong_answer.json", root / "bad")
    return [root / "good", root / "bad"]


def test_report_over_real_run_folders(folders):
    report = build_report(folders)
    assert [m["label"] for m in report["models"]] == ["good", "bad"]
    raw = report["score"]["raw"]
    assert raw["cells"]["good"][TASK] == {"passes": RUNS, "runs": RUNS, "infra_errors": 0}
    assert raw["cells"]["bad"][TASK] == {"passes": 0, "runs": RUNS, "infra_errors": 0}
    assert report["failures"]["raw"]["bad"]["reasons"] == {"wrong_answer": RUNS}
    assert report["reliability"]["raw"]["good"]["pass_hat_k"][str(RUNS)] == 1.0
    perf = report["performance"]["good"]
    assert perf["ttft_median_s"] is not None and perf["ttft_median_s"] > 0  # the loop timed real turns
    assert perf["wall_s_total"] > 0


def test_every_format_renders_real_folders(folders, tmp_path):
    report = build_report(folders, compare_seed=True)
    assert "| Config read | Basic | 2/2 | 0/2 |" in render(report, "md")
    assert json.loads(render(report, "json"))["models"][0]["label"] == "good"
    assert render(report, "html").count("data:image/png;base64,") >= 2


def test_a_run_cut_by_the_cap_is_explained_and_readable_in_the_html(tmp_path):
    """The embedded default's first real run: every turn repeated text until the token cap cut it, and
    the report said only `no_tool_calls`. Now the reason names the cap and the run opens turn by turn."""
    loop = "I will now read the config file and answer. " * 40
    script = [{"content": loop, "reasoning": "Which file holds the port?", "think_in_content": True,
               "finish_reason": "length"}]
    out = tmp_path / "capped"
    with ScriptedModel(script, model="looper") as server:
        result = CliRunner().invoke(app, ["run", "--base-url", server.base_url, "--served-model", "looper",
                                          "--tasks", TASK, "--runs", "1", "--out", str(out), "--no-report"],
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = build_report([out])
    (run,) = report["runs"]
    assert not run["passed"] and run["cut_by_cap"]
    assert "last turn (turn 1) cut by the token cap" in run["explanation"]
    assert report["finish_reasons"]["raw"]["looper"]["finish_reasons"] == {"length": 1}
    html = render(report, "html")
    assert f'id="{run["id"]}"' in html and "✂ cap" in html
    assert "Which file holds the port?" in html  # the reasoning, folded, from the real transcript
    assert "repeats itself" in html
    table = render(report, "table", width=80)
    assert max(map(len, table.splitlines())) <= 80


def test_the_html_embeds_the_real_conversations(folders):
    report = build_report(folders)
    html = render(report, "html")
    good = next(r for r in report["runs"] if r["label"] == "good")
    assert f'id="{good["id"]}"' in html
    reference = json.loads((TRAJECTORIES / "reference.json").read_text())
    names = {c["name"] for turn in reference.get("turns", reference) if isinstance(turn, dict)
             for c in turn.get("tool_calls", [])}
    assert names and all(f"→ {n}" in html for n in names)  # every tool the reference trajectory called
    assert "What it saw" in html  # the checks, with their details

"""The thinking-tax table, finish reasons and the cap, per variant of one model, against hand-worked values.

Input: tests/helpers/report_results.write_thinking_variants (a thinking model run with thinking off,
on and budgeted to 128 tokens; one run cut by a 512-token cap). The expected numbers are worked out
here from the helper's table, not by calling the report's aggregation.
"""

import pytest

from orchestrator.report.build import build_report
from orchestrator.report.render import render
from tests.helpers.report_results import write_thinking_variants


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return build_report([write_thinking_variants(tmp_path_factory.mktemp("variants"))])


def test_variants_are_models_side_by_side_sharing_the_launch_figures(report):
    assert [m["label"] for m in report["models"]] == ["thinker/off", "thinker/on", "thinker/budget-128"]
    assert {m["model"] for m in report["models"]} == {"thinker"}
    assert [m["variant"] for m in report["models"]] == ["off", "on", "budget-128"]
    # one meta.json lists the variants: each gets the launch's load time and the cap
    assert all(report["performance"][lab]["load_s"] == 30.0 for lab in ("thinker/off", "thinker/on"))
    assert all(m["max_tokens"] == 512 for m in report["models"])


def test_thinking_tax_per_variant(report):
    off, on, budget = (report["thinking_tax"][f"thinker/{v}"] for v in ("off", "on", "budget-128"))
    # off: two runs of 50+30 generated, nothing thought, 1.0 + 0.5 s of model time each
    assert (off["generated_mean"], off["thinking_mean"], off["useful_mean"]) == (80, 0, 80)
    assert off["useful_share"] == 1.0
    assert off["effective_tps"] == pytest.approx(160 / 3.0)
    assert off["decode_tps_median"] == 55.0  # 50 50 | 60 60
    assert off["thinking_sources"] == {"tokenizer": 4}
    assert off["failed_thought_more"] is None  # no failed run to compare
    # on: run 0 generated 300+100, thought 250+80; run 1 one turn of 512, all thinking, cut by the cap
    assert on["generated_mean"] == (400 + 512) / 2 and on["thinking_mean"] == (330 + 512) / 2
    assert on["useful_mean"] == (70 + 0) / 2
    assert on["useful_share"] == pytest.approx(70 / 912)
    assert on["effective_tps"] == pytest.approx(70 / (14 + 17))  # useful tokens / model seconds
    assert on["thinking_s_mean"] == (7 + 16) / 2
    assert on["decode_tps_median"] == 30.0
    assert (on["capped_turns"], on["runs_cut_by_cap"]) == (1, 1)
    assert on["thinking_sources"] == {"tokenizer": 2, "estimate": 1}  # best source first
    assert (on["thinking_passed_mean"], on["thinking_failed_mean"], on["failed_thought_more"]) == (330, 512, True)
    # budget-128: the server counted (usage); 128+0 and 128+20 thought
    assert (budget["generated_mean"], budget["thinking_mean"], budget["useful_mean"]) == (260, 138, 122)
    assert budget["effective_tps"] == pytest.approx((112 + 132) / (7 + 9))
    assert budget["thinking_sources"] == {"server_usage": 4}
    assert budget["tasks"]["config_read"]["runs"] == 2


def test_finish_reasons_and_the_cap_in_the_failure_reason(report):
    fin = report["finish_reasons"]["raw"]
    assert fin["thinker/off"]["finish_reasons"] == {"tool_calls": 2, "stop": 2}
    assert fin["thinker/on"]["finish_reasons"] == {"tool_calls": 1, "stop": 1, "length": 1}
    assert (fin["thinker/on"]["runs_cut_by_cap"], fin["thinker/on"]["failed_runs_cut_by_cap"]) == (1, 1)
    cut = next(r for r in report["runs"] if r["label"] == "thinker/on" and r["run"] == 1)
    assert cut["cut_by_cap"] and cut["reason"] == "no_tool_calls"
    assert cut["explanation"] == ("no_tool_calls: answered without calling any tool; last turn (turn 1) cut by "
                                  "the token cap at 512 tokens of max_tokens 512")
    fine = next(r for r in report["runs"] if r["label"] == "thinker/budget-128" and r["run"] == 1)
    assert not fine["cut_by_cap"] and "cap" not in fine["explanation"]


def test_a_truncated_reason_reads_as_the_cap(tmp_path):
    from orchestrator.report.runs import explain

    turns = [{"turn": 3, "finish_reason": "length", "completion_tokens": 4096}]
    assert explain({"passed": False, "reason": "truncated"}, turns, 4096) == \
        "truncated: last turn (turn 3) cut by the token cap at 4,096 tokens of max_tokens 4,096"
    assert explain({"passed": True, "reason": None}, turns, 4096) == ""
    # unknown cap and count still say it was the cap
    assert explain({"passed": False, "reason": "out_of_turns"}, [{"turn": 10, "finish_reason": "length"}], None) == \
        "out_of_turns: used every turn without finishing; last turn (turn 10) cut by the token cap"


def test_tables_show_the_variants_and_name_the_sources(report):
    md = render(report, "md")
    assert "**Thinking tax per run, mean (raw runs)**" in md
    row = next(line for line in md.splitlines() if line.startswith("| thinker/on |") and "tokenizer" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    # passes, generated, thinking, useful (share), decode, useful tok/s, thinking s, cap, source
    assert cells[1:] == ["1/2", "456", "421", "35 (8%)", "30.0", "2.3", "11.5", "1 / 1", "tokenizer 2, estimate 1"]
    assert "| thinker/budget-128 | Config read |" in md
    assert "**How turns ended: finish reasons (raw)**" in md
    finish = next(line for line in md.splitlines() if line.startswith("| thinker/on | 3 |"))
    # turns, tool calls, stop, length, runs cut (failed), cap, turns whose call the server lost
    assert [c.strip() for c in finish.strip("|").split("|")] == ["thinker/on", "3", "1", "1", "1", "1 (1)", "512", "0"]
    think_more = next(line for line in md.splitlines() if line.startswith("| thinker/on | 330 |"))
    assert think_more.rstrip().endswith("| yes |")


def test_compare_seed_puts_the_articles_thinking_tax_beside_the_matching_model(tmp_path):
    report = build_report([write_thinking_variants(tmp_path, model="qwen3.5-27b")], compare_seed=True)
    seed = report["seed"]["thinking_tax"]
    qwen = next(m for m in seed["models"] if m["config"] == "qwen3.5-27b")
    assert (qwen["tokens"], qwen["useful"], qwen["seconds"], qwen["effective_tps"]) == (3986, 600, 172, 3.5)
    md = render(report, "md")
    block = md[md.index("**Beside the article's thinking-tax table**"):]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    names = [line.split("|")[1].strip() for line in lines[2:]]
    # the article's Qwen3.5 row, then our three variants of the same model, in order
    at = names.index("*Qwen3.5 (article)*")
    assert names[at + 1:at + 4] == ["qwen3.5-27b/off", "qwen3.5-27b/on", "qwen3.5-27b/budget-128"]
    assert "*3,986*" in lines[2 + at] and "*600 (15%)*" in lines[2 + at]
    assert "*Coder-Next (article)*" in names  # the article's other rows stay, unmatched


def test_a_model_without_turns_keeps_its_run_totals_and_unknown_per_turn_figures(tmp_path):
    from tests.helpers.report_results import write_two_models

    report = build_report([write_two_models(tmp_path)])
    beta = report["thinking_tax"]["beta"]
    assert beta["thinking_mean"] is None and beta["effective_tps"] is None and beta["useful_mean"] is None
    assert beta["generated_mean"] == 300  # from the run records; their turns carry no counts
    assert beta["thinking_sources"] == {}
    alpha = report["thinking_tax"]["alpha"]["tasks"]["config_read"]
    assert alpha["thinking_mean"] == 150.0  # runs 100 and 200; the third run's is unknown
    assert alpha["runs_known"] == 2


def test_useful_tokens_are_never_negative_when_a_count_exceeds_the_servers(tmp_path):
    from orchestrator.report.thinking_tax import run_figures

    turns = [{"completion_tokens": 100, "thinking_tokens": 104, "thinking_tokens_source": "tokenizer",
              "wall_s": 2.0, "finish_reason": "length"}]
    figures = run_figures({"passed": False}, turns)
    assert (figures["generated"], figures["thinking"], figures["useful"]) == (100, 104, 0)
    assert figures["cut_by_cap"] and figures["capped_turns"] == 1


def test_per_task_rows_put_a_models_variants_next_to_each_other(tmp_path):
    from orchestrator.report.sections_thinking import thinking_tax_tables
    from tests.helpers.report_results import write_two_models

    report = build_report([write_two_models(tmp_path / "two"), write_thinking_variants(tmp_path / "v")])
    per_task = thinking_tax_tables(report)[1]
    keys = [(row[0], row[1]) for row in per_task.rows]
    assert keys[:3] == [("alpha", "Config read"), ("alpha", "Read-fix-write"), ("alpha", "TDD")]
    assert keys[-3:] == [("thinker/off", "Config read"), ("thinker/on", "Config read"),
                         ("thinker/budget-128", "Config read")]
    assert per_task.links[(len(keys) - 1, 1)] == "runs-thinker_budget-128-config_read-raw"

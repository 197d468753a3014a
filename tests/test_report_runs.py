"""The run viewer: every run embedded in the one HTML file, read turn by turn, and linked from the tables.

Input: the thinking-variants results folder (tests/helpers/report_results.py), whose transcripts hold
tool calls, a tool result with markup in it, a run cut by the cap with 2,000 characters of repeated
text, and a record whose transcript path leads out of its folder.
"""

import re
from html.parser import HTMLParser

import pytest

from orchestrator.report.build import build_report
from orchestrator.report.render import render
from orchestrator.report.run_view import (TEXT_CAP_CHARS, cap_text, conversation_turns, load_run_views, repeats,
                                          shown_chars)
from tests.helpers.report_results import LOOP_TEXT, write_thinking_variants, write_two_models


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return [write_thinking_variants(root / "variants"), write_two_models(root / "two")]


@pytest.fixture(scope="module")
def report(folders):
    return build_report(folders)


@pytest.fixture(scope="module")
def html(report):
    return render(report, "html")


class Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.scripts = set(), [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.hrefs.append(attrs["href"][1:])
        self.scripts += tag == "script"


def test_every_run_is_in_the_file_and_every_link_lands(report, html):
    parsed = Anchors()
    parsed.feed(html)
    assert {r["id"] for r in report["runs"]} <= parsed.ids  # every run, infra_error ones included
    assert len(report["runs"]) == 6 + 9 + 9 + 9  # 3 variants x 2, alpha raw 9 (one infra) + harness 9, beta 9
    assert parsed.hrefs and set(parsed.hrefs) <= parsed.ids  # no dangling link
    # the score table's cells link to the model's runs of that task
    assert '<a href="#runs-thinker_on-config_read-raw">1/2</a>' in html
    assert parsed.scripts == 0  # the tag only appears escaped, inside a tool result


def test_a_run_reads_turn_by_turn(report):
    views = {v["id"]: v for v in load_run_views(report)}
    run = views["run-thinker_on-config_read-raw-r0"]
    assert [t["turn"] for t in run["turn_views"]] == [1, 2]
    first, second = run["turn_views"]
    assert first["calls"][0]["name"] == "read_file"
    assert first["calls"][0]["arguments"]["text"] == '{\n  "path": "config.yaml"\n}'  # pretty JSON
    assert first["calls"][0]["result"]["text"].startswith("port: 8080")
    assert first["reasoning"]["text"] == "thinking about turn 1 of run 0"
    assert first["figures"]["finish_reason"] == "tool_calls" and first["figures"]["thinking_tokens"] == 250
    assert second["content"]["text"] == "The server listens on port 8080 (on)."
    assert run["check_views"] == [{"name": "answer", "passed": True, "detail": cap_text("states every value", 3000)}]


def test_the_capped_run_says_why_and_flags_its_repetition(report, html):
    views = {v["id"]: v for v in load_run_views(report)}
    cut = views["run-thinker_on-config_read-raw-r1"]
    (turn,) = cut["turn_views"]
    assert turn["figures"]["finish_reason"] == "length" and turn["content"]["repeats"]
    assert cut["explanation"].endswith("cut by the token cap at 512 tokens of max_tokens 512; turn 1's text repeats itself")
    assert "repeats" not in views["run-thinker_budget-128-config_read-raw-r1"]["explanation"]  # prose: no flag
    assert "✗ no_tool_calls ✂ cap" in html
    assert '<span class="finish length">length</span>' in html


def test_model_output_is_escaped_and_hostile_paths_are_not_followed(report, html):
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    views = {v["id"]: v for v in load_run_views(report)}
    hostile = views["run-thinker_off-config_read-raw-r1"]
    assert "leads out of the results folder" in hostile["transcript_problem"]
    assert [t["turn"] for t in hostile["turn_views"]] == [1, 2]  # its figures still show
    # runs without a transcript (the hand-made folder) still open, with their turns' figures
    alpha = views["run-alpha-config_read-raw-r0"]
    assert alpha["transcript_problem"] == "no transcript recorded for this run"
    assert [t["figures"]["ttft_s"] for t in alpha["turn_views"]] == [9.0, 0.5]


def test_long_texts_are_capped_head_and_tail():
    text = "A" * 10_000 + "MIDDLE" + "Z" * 10_000
    capped = cap_text(text)
    assert len(capped["text"]) < TEXT_CAP_CHARS + 100 and capped["omitted"] == len(text) - TEXT_CAP_CHARS
    assert capped["text"].startswith("AAA") and capped["text"].endswith("ZZZ") and "MIDDLE" not in capped["text"]
    assert f"{capped['omitted']:,} characters not shown" in capped["text"]


@pytest.mark.parametrize("text, expected", [
    (LOOP_TEXT, True),
    ("x" * 399, False),  # too short to judge
    ("def f(a, b):\n    return a + b\n" + "".join(f"value_{i} = compute({i}, {i * 7 % 13})\n" for i in range(40)), False),
    ("The model read config.yaml, found the port, then ran the tests; two failed on the edge case "
     "where the bucket refills exactly at the boundary, so it rewrote refill() to use a float clock "
     "and verified that every test passes, including the hidden boundary one it could not see, by "
     "reasoning about the integer division that truncated the partial tokens in the old code.", False),
])
def test_repetition_is_told_from_prose_and_code(text, expected):
    assert repeats(text) is expected


def test_harness_feedback_and_tool_results_attach_to_their_turn():
    transcript = {"messages": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "the task"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "a", "function": {"name": "read_file", "arguments": "{\"path\": \"x\"}"}},
            {"id": "b", "function": {"name": "run_command", "arguments": "not json"}}]},
        {"role": "tool", "tool_call_id": "b", "content": "ran"},
        {"role": "tool", "tool_call_id": "a", "content": "read"},
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": "The task is not done yet: ..."},
        {"role": "assistant", "content": "fixed"}], "reasoning": ["r1", "", "r3"]}
    prompt, turns = conversation_turns(transcript)
    assert prompt == "the task"
    assert [c["result"]["text"] for c in turns[0]["calls"]] == ["read", "ran"]  # matched by id, not order
    assert turns[0]["calls"][1]["arguments"]["text"] == "not json"  # as sent
    assert [f["text"] for f in turns[1]["feedback"]] == ["The task is not done yet: ..."]
    assert turns[2]["reasoning"]["text"] == "r3"


def test_json_report_stays_small_without_the_conversations(report):
    text = render(report, "json")
    assert "I will read the file now" not in text and len(text) < 200_000
    assert re.search(r'"explanation": "no_tool_calls: answered without calling any tool; last turn', text)


def test_past_the_page_budget_runs_keep_figures_and_name_their_transcript(report):
    full = load_run_views(report)
    sizes = [shown_chars(v) for v in full]
    budget = sum(sizes[:3])  # room for exactly the first three runs' conversations
    views = load_run_views(report, budget_chars=budget)
    assert [v["transcript_problem"] for v in views[:3]] == [f["transcript_problem"] for f in full[:3]]
    later = [v for v, s in zip(views[3:], sizes[3:]) if s]
    assert later and all("conversation left out to keep this file small" in v["transcript_problem"] for v in later)
    assert all(not t["calls"] and not t["content"]["text"] for v in later for t in v["turn_views"])
    assert [v["check_views"] for v in views] == [v["check_views"] for v in full]  # checks stay
    assert [len(v["turn_views"]) for v in views] == [len(v["turn_views"]) for v in full]  # figures stay
    assert [v["explanation"] for v in views] == [v["explanation"] for v in full]


def test_a_variants_index_says_what_its_requests_carried(tmp_path):
    from orchestrator.results.records import ResultsDir

    root = write_thinking_variants(tmp_path / "v")
    meta_path = root / "models" / "thinker" / "meta.json"
    import json as _json

    meta = _json.loads(meta_path.read_text())
    for v in meta["variants"]:  # as session/variants.py records them
        v["request"] = {"chat_template_kwargs": {"enable_thinking": v["name"] != "off"}}
    ResultsDir(root).write_json(meta_path, meta)
    html = render(build_report([root]), "html")
    assert "This variant's requests carried <code>{&quot;chat_template_kwargs&quot;: {&quot;enable_thinking&quot;: false}}" in html

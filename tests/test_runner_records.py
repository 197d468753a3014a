"""One model's runs (orchestrator/session/runner.py) driven in process: the records each run writes, the
sums and maxima of its turn figures, retries after server faults, what --resume still runs, warm-up,
memory fields, and the real-harness path.

The model is a scripted chat put in place of the HTTP client (each turn's figures are chosen here, so
every sum is exact); the tools, the loop and the graders are the real ones, on the real `config_read`
task (its grading needs no sandboxed test run). The warm-up tests use the scripted HTTP server.
"""

import json
import threading
from types import SimpleNamespace

import pytest

from orchestrator.agent.chat_client import ChatSettings, run_seed
from orchestrator.agent.loop import LoopSettings
from orchestrator.agent.stream import ToolCallDraft, TurnMetrics, TurnResult
from orchestrator.errors import InfraError
from orchestrator.results.records import ResultsDir, RunRecord, read_jsonl
from orchestrator.session import runner
from orchestrator.session.runner import (MAX_ATTEMPTS, ModelRun, ModelTarget, Plan, StaticServer, _max,
                                         _memory_fields, _sum, warm_up)
from orchestrator.taskdef import load_task, system_prompt
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS
from orchestrator.workspace.workspace import Workspace
from tests.helpers.scripted_server import ScriptedModel

TASK = load_task("config_read")
RIGHT = ("In production a failed webhook delivery is retried 7 times (max_retries = 7 in "
         "config/production.toml), and the first retry waits 45 seconds (initial_backoff_s = 45).")


def metrics(prompt=100, completion=10, reasoning_tokens=None, thinking_s=None, wall_s=1.0):
    return TurnMetrics(wall_s=wall_s, ttft_s=0.1, prompt_tokens=prompt, completion_tokens=completion,
                       usage_reasoning_tokens=reasoning_tokens, thinking_s=thinking_s)


def call(name, arguments, reasoning="", **figures):
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return TurnResult("", "", reasoning, [ToolCallDraft("", name, raw)], "tool_calls", metrics(**figures))


def read(path, **figures):
    return call("read_file", {"path": path}, **figures)


def answer(text, finish="stop", reasoning="", **figures):
    return TurnResult(text, text, reasoning, [], finish, metrics(**figures))


class Chats:
    """Stands in for ChatClient: each attempt (each client the runner makes) plays the next script; a
    script item that is an exception is raised as the server's fault."""

    def __init__(self, *scripts):
        self.scripts = list(scripts)
        self.made = []  # (base_url, settings) of each client made
        self.sent = []  # a copy of every request's messages
        self.tools = []  # the tools each request offered

    def __call__(self, base_url, settings):
        self.made.append((base_url, settings))
        script = iter(self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0])
        outer = self

        class Chat:
            def complete(self, messages, tools):
                outer.sent.append(json.loads(json.dumps(messages)))
                outer.tools.append(tools)
                item = next(script, None) or answer("Done.")
                if isinstance(item, Exception):
                    raise item
                return item

        return Chat()


class Guard(StaticServer):
    def __init__(self, alive=True):
        super().__init__("http://server.test/v1")
        self.alive, self.calls = alive, 0

    def ensure_alive(self):
        self.calls += 1
        return self.alive


class Memory:
    """A memory sampler giving each turn its own figures."""

    def __init__(self, *snapshots):
        self.snapshots = list(snapshots)

    def mark(self):
        return self.snapshots.pop(0)


def target(server=None, memory=None, context_tokens=None, seed=7):
    return ModelTarget(label="m1", config_hash="h1", backend="openai", server=server or Guard(),
                       chat=ChatSettings(model="served", seed=seed, max_tokens=512, timeout_s=9.0),
                       context_tokens=context_tokens, memory=memory)


def model_run(tmp_path, monkeypatch, chats, plan=None, **kwargs):
    monkeypatch.setattr(runner, "ChatClient", chats)
    results = ResultsDir(tmp_path)
    done = []
    run = ModelRun(kwargs.pop("target", None) or target(), plan or Plan([TASK], runs=1), results,
                   on_done=done.append, **kwargs)
    return run, results, done


def passing_script():
    return [read("config/defaults.toml", prompt=100, completion=10, reasoning_tokens=4, thinking_s=0.5,
                 reasoning="first"),
            read("config/production.toml", prompt=200, completion=20, reasoning_tokens=5, thinking_s=0.25,
                 reasoning="second"),
            answer(RIGHT, prompt=300, completion=30, reasoning_tokens=6, thinking_s=0.125, reasoning="third")]


def test_a_passing_run_records_exact_sums_maxima_and_every_field(tmp_path, monkeypatch):
    memory = Memory({"server_peak_rss_bytes": 200, "system_used_bytes": 11},
                    {"server_peak_rss_bytes": 500, "system_used_bytes": 12},
                    {"server_peak_rss_bytes": 300, "system_used_bytes": 13})
    chats = Chats(passing_script())
    run, results, done = model_run(tmp_path, monkeypatch, chats, target=target(memory=memory))
    (record,) = run.run_all()
    expected = dict(
        model="m1", config_hash="h1", backend="openai", task="config_read", tier="basic", run=0, mode="raw",
        passed=True, reason=None, turns=3, tool_calls=2, malformed_calls=0, prompt_tokens=600,
        completion_tokens=60, thinking_tokens=15, thinking_s=0.875, peak_rss_bytes=500, ended="answer",
        error=None, attempts=1, concurrency=1, harness_rounds=None, harness=None,
        transcript="transcripts/m1/config_read-raw-r0.json", context_truncations=0,
        seed=run_seed(7, "config_read", 0))
    assert {k: getattr(record, k) for k in expected} == expected
    assert [(c["name"], c["passed"]) for c in record.checks] == [
        ("read:config/production.toml", True), ("answer", True), ("only_allowed_files_changed", True),
        ("existing_tests_kept", True)]
    assert 0 <= record.wall_s < 60
    assert done == [record]
    assert read_jsonl(tmp_path / "runs.jsonl") == [record.model_dump(mode="json")]
    # The client is made for this server, with this run's own seed.
    assert [(url, s.seed, s.max_tokens) for url, s in chats.made] == [
        ("http://server.test/v1", run_seed(7, "config_read", 0), 512)]
    assert chats.tools == [TOOL_SCHEMAS] * 3, "every request offers the four tools"


def test_wall_time_is_recorded_to_the_millisecond(tmp_path, monkeypatch):
    clock = iter([10.0, 12.3456789])
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(passing_script()))
    monkeypatch.setattr(runner, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    (record,) = run.run_all()
    assert record.wall_s == 2.346


def test_thinking_is_counted_with_the_models_tokenizer_when_the_server_gives_no_count(tmp_path, monkeypatch):
    script = [read("config/production.toml", reasoning="look at production"), answer(RIGHT, reasoning="so 7")]
    t = target()
    t.count_tokens = lambda text: len(text.split())
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(script), target=t)
    (record,) = run.run_all()
    turns = read_jsonl(tmp_path / "turns.jsonl")
    assert [(r["thinking_tokens"], r["thinking_tokens_source"]) for r in turns] == [(3, "tokenizer"), (2, "tokenizer")]
    assert record.thinking_tokens == 5


def test_one_run_at_a_time_runs_in_the_callers_thread(tmp_path, monkeypatch):
    # So Ctrl-C interrupts the run itself, not a wait on a worker that carries on.
    threads = []

    class Where:
        def complete(self, messages, tools):
            threads.append(threading.current_thread())
            return answer(RIGHT)

    monkeypatch.setattr(runner, "ChatClient", lambda url, settings: Where())
    ModelRun(target(), Plan([TASK], runs=2), ResultsDir(tmp_path)).run_all()
    assert threads == [threading.main_thread()] * 2


def test_each_turn_record_carries_its_figures_memory_and_warmth(tmp_path, monkeypatch):
    memory = Memory({"server_peak_rss_bytes": 200, "system_used_bytes": 11, "pid": 99},
                    {"server_peak_rss_bytes": 500, "kv_cache_usage_perc": 0.5},
                    {"server_peak_rss_bytes": 300, "gpu_used_bytes": 7})
    run, results, _ = model_run(tmp_path, monkeypatch, Chats(passing_script()), target=target(memory=memory))
    run.run_all()
    turns = read_jsonl(tmp_path / "turns.jsonl")
    pick = ["model", "config_hash", "task", "run", "mode", "turn", "finish_reason", "tool_calls", "prompt_tokens",
            "completion_tokens", "thinking_tokens", "thinking_tokens_source", "thinking_s", "warm", "concurrency",
            "server_peak_rss_bytes", "system_used_bytes", "kv_cache_usage_perc", "gpu_used_bytes", "seed"]
    seed = None  # the scripted chat reports no seed of its own
    assert [[t[k] for k in pick] for t in turns] == [
        ["m1", "h1", "config_read", 0, "raw", 1, "tool_calls", 1, 100, 10, 4, "server_usage", 0.5, False, 1,
         200, 11, None, None, seed],
        ["m1", "h1", "config_read", 0, "raw", 2, "tool_calls", 1, 200, 20, 5, "server_usage", 0.25, True, 1,
         500, None, 0.5, None, seed],
        ["m1", "h1", "config_read", 0, "raw", 3, "stop", 0, 300, 30, 6, "server_usage", 0.125, True, 1,
         300, None, None, 7, seed],
    ]
    assert "pid" not in turns[0], "only the known memory fields are recorded"


def test_a_server_that_answered_before_labels_every_turn_warm(tmp_path, monkeypatch):
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(passing_script()), warmed=True)
    run.run_all()
    assert [t["warm"] for t in read_jsonl(tmp_path / "turns.jsonl")] == [True, True, True]


def test_a_malformed_call_is_counted_in_the_turn_and_the_run(tmp_path, monkeypatch):
    script = [call("read_file", "{not json"), read("config/production.toml"), answer(RIGHT)]
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(script))
    (record,) = run.run_all()
    assert (record.tool_calls, record.malformed_calls, record.passed) == (2, 1, True)
    assert [t["malformed_calls"] for t in read_jsonl(tmp_path / "turns.jsonl")] == [1, 0, 0]


def test_an_unknown_figure_makes_the_sum_unknown_and_the_maximum_ignores_it(tmp_path, monkeypatch):
    script = [read("config/production.toml", prompt=None, completion=10),
              answer(RIGHT, prompt=300, completion=5, wall_s=None)]
    memory = Memory({"server_peak_rss_bytes": 900}, {})
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(script), target=target(memory=memory))
    (record,) = run.run_all()
    assert (record.prompt_tokens, record.completion_tokens) == (None, 15)
    # Turn 2 has no reasoning and no wall time: its thinking time is unknown, so the run's is too.
    assert (record.thinking_tokens, record.thinking_s) == (0, None)
    assert record.peak_rss_bytes == 900


def test_without_a_memory_sampler_no_memory_is_recorded(tmp_path, monkeypatch):
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(passing_script()))
    (record,) = run.run_all()
    assert record.peak_rss_bytes is None
    assert {t["server_peak_rss_bytes"] for t in read_jsonl(tmp_path / "turns.jsonl")} == {None}


def test_sum_and_max_helpers():
    assert (_sum([]), _sum([1, 2, 3]), _sum([1, None]), _sum(x for x in [0.5, 0.25])) == (None, 6, None, 0.75)
    assert (_max([]), _max([None, None]), _max([3, None, 7, 5])) == (None, None, 7)


def test_memory_fields_come_from_a_dict_or_an_object_and_only_the_known_keys():
    class Snapshot:
        def __init__(self):
            self.server_peak_rss_bytes, self.wired_bytes, self.sampled_at = 5, 6, 1.0

    assert _memory_fields(None) == {}
    assert _memory_fields(Memory(Snapshot())) == {"server_peak_rss_bytes": 5, "wired_bytes": 6}
    every = {k: i for i, k in enumerate(("server_peak_rss_bytes", "system_used_bytes", "system_available_bytes",
                                         "swap_used_bytes", "wired_bytes", "server_peak_footprint_bytes",
                                         "gpu_used_bytes", "gpu_working_set_limit_bytes", "kv_cache_usage_perc"))}
    assert _memory_fields(Memory({**every, "other": 1})) == every


def test_the_transcript_holds_the_conversation_and_the_raw_answers(tmp_path, monkeypatch):
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(passing_script()))
    (record,) = run.run_all()
    transcript = json.loads((tmp_path / record.transcript).read_text())
    assert (transcript["model"], transcript["task"], transcript["run"], transcript["mode"], transcript["error"]) == (
        "m1", "config_read", 0, "raw", None)
    assert transcript["reasoning"] == ["first", "second", "third"]
    assert transcript["assistant_raw"] == ["", "", RIGHT]
    roles = [m["role"] for m in transcript["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert transcript["messages"][0] == {"role": "system", "content": system_prompt()}
    assert transcript["messages"][1]["content"] == TASK.prompt
    assert "max_retries = 7" in transcript["messages"][5]["content"]


# ---- failure reasons as a run records them ----

@pytest.mark.parametrize("script, max_turns, reason, ended", [
    ([answer("Probably 7 retries and 45 seconds.")], 10, "no_tool_calls", "answer"),
    ([read("config/production.toml"), answer("It retries 3 times after 5 seconds.")], 10, "wrong_answer", "answer"),
    ([read("config/production.toml"), answer("In production it retries", finish="length")], 10, "truncated",
     "answer"),
    ([call("read_file", "{oops"), answer(RIGHT)], 10, "invalid_tool_calls", "answer"),
    ([read("config/production.toml"),
      answer('<tool_call>{"name": "read_file", "arguments": {"path": "README.md"}}</tool_call>')], 10,
     "parser_dropped_call", "answer"),
    # The same call three times is looping; twice and once more something else is running out of turns.
    ([read("README.md")] * 3, 3, "looping", "max_turns"),
    ([read("README.md")] * 2 + [read("config/defaults.toml")], 3, "out_of_turns", "max_turns"),
    ([read("README.md"), read("config/defaults.toml"), read("README.md")], 3, "out_of_turns", "max_turns"),
])
def test_a_failed_run_records_its_reason(tmp_path, monkeypatch, script, max_turns, reason, ended):
    plan = Plan([TASK], runs=1, loop=LoopSettings(max_turns=max_turns))
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(script), plan=plan)
    (record,) = run.run_all()
    assert (record.passed, record.reason, record.ended, record.attempts) == (False, reason, ended, 1)
    assert record.turns == len(script)
    assert read_jsonl(tmp_path / "runs.jsonl")[0]["reason"] == reason


def test_the_run_ends_at_exactly_max_turns(tmp_path, monkeypatch):
    plan = Plan([TASK], runs=1, loop=LoopSettings(max_turns=10))
    chats = Chats([read(f"notes/{i}.txt") for i in range(20)])  # all different: not looping
    run, _, _ = model_run(tmp_path, monkeypatch, chats, plan=plan)
    (record,) = run.run_all()
    assert (record.turns, record.tool_calls, record.ended, record.reason) == (10, 10, "max_turns", "out_of_turns")
    assert len(chats.sent) == 10 and len(read_jsonl(tmp_path / "turns.jsonl")) == 10


# ---- server faults: retried, recorded once, never scored ----

def test_a_run_the_server_keeps_failing_is_tried_three_times_and_recorded_as_infra_error(tmp_path, monkeypatch):
    guard = Guard()
    chats = Chats([InfraError("server answered HTTP 503: busy")])
    run, results, done = model_run(tmp_path, monkeypatch, chats, target=target(server=guard))
    (record,) = run.run_all()
    assert MAX_ATTEMPTS == 3
    assert (record.passed, record.reason, record.ended, record.error, record.attempts) == (
        False, "infra_error", "infra_error", "server answered HTTP 503: busy", 3)
    assert (record.checks, record.turns, record.tool_calls, record.prompt_tokens, record.peak_rss_bytes) == (
        [], 0, 0, None, None)
    assert len(chats.made) == 3 and guard.calls == 2, "the server is checked before each retry, not after the last"
    assert len(read_jsonl(tmp_path / "runs.jsonl")) == 1 and done == [record]
    assert json.loads((tmp_path / record.transcript).read_text())["error"] == "server answered HTTP 503: busy"


def test_a_fault_then_a_good_attempt_records_only_the_good_one(tmp_path, monkeypatch):
    first = [read("config/defaults.toml", prompt=1000, completion=1000), InfraError("connection reset")]
    chats = Chats(first, passing_script())
    run, _, _ = model_run(tmp_path, monkeypatch, chats)
    (record,) = run.run_all()
    assert (record.passed, record.reason, record.attempts, record.error, record.ended) == (
        True, None, 2, None, "answer")
    assert (record.turns, record.prompt_tokens, record.completion_tokens) == (3, 600, 60)
    assert len(read_jsonl(tmp_path / "runs.jsonl")) == 1
    # Turns are written as they happen: the lost attempt's turn stays, and the numbering restarts.
    assert [(t["turn"], t["prompt_tokens"]) for t in read_jsonl(tmp_path / "turns.jsonl")] == [
        (1, 1000), (1, 100), (2, 200), (3, 300)]


def test_a_fault_on_the_second_try_leaves_three_attempts_only_when_the_server_stays_up(tmp_path, monkeypatch):
    chats = Chats([InfraError("boom")], [InfraError("boom")], passing_script())
    run, _, _ = model_run(tmp_path, monkeypatch, chats)
    (record,) = run.run_all()
    assert (record.passed, record.attempts) == (True, 3)


def test_a_server_nobody_manages_is_simply_tried_again(tmp_path, monkeypatch):
    chats = Chats([InfraError("busy")], [InfraError("busy")], passing_script())
    run, _, _ = model_run(tmp_path, monkeypatch, chats, target=target(server=StaticServer("http://attached/v1")))
    (record,) = run.run_all()
    assert (record.passed, record.attempts) == (True, 3)
    assert [url for url, _ in chats.made] == ["http://attached/v1"] * 3


def test_a_server_that_cannot_be_brought_back_is_not_retried(tmp_path, monkeypatch):
    guard = Guard(alive=False)
    chats = Chats([InfraError("server died")])
    run, _, _ = model_run(tmp_path, monkeypatch, chats, target=target(server=guard))
    (record,) = run.run_all()
    assert (record.reason, record.attempts, record.error) == ("infra_error", 1, "server died")
    assert len(chats.made) == 1 and guard.calls == 1


def test_a_grading_fault_is_the_runs_infrastructure_error(tmp_path, monkeypatch):
    def broken(task, ws, traj):
        raise ValueError("x" * 600)

    monkeypatch.setattr(runner, "grade", broken)
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(passing_script()))
    (record,) = run.run_all()
    assert (record.reason, record.ended, record.passed, record.checks, record.attempts) == (
        "infra_error", "infra_error", False, [], 3)
    assert record.error == ("grading failed: ValueError: " + "x" * 600)[:500]
    assert len(record.error) == 500 and record.turns == 3


def test_a_stopping_run_records_nothing(tmp_path, monkeypatch):
    run, _, done = model_run(tmp_path, monkeypatch, Chats(passing_script()))
    run.stopping.set()
    assert run.run_one(TASK, 0) is None
    assert read_jsonl(tmp_path / "runs.jsonl") == [] and done == []


def test_a_run_stopped_while_it_ran_records_nothing(tmp_path, monkeypatch):
    chats = Chats(passing_script())
    run, _, done = model_run(tmp_path, monkeypatch, chats)

    class Stopping:
        def complete(self, messages, tools):
            run.stopping.set()
            return answer(RIGHT)

    monkeypatch.setattr(runner, "ChatClient", lambda url, settings: Stopping())
    assert run.run_one(TASK, 0) is None
    assert read_jsonl(tmp_path / "runs.jsonl") == [] and done == []


# ---- the plan and --resume ----

def row(config_hash, task, run, mode="raw", **fields):
    return {"model": "m1", "config_hash": config_hash, "task": task, "run": run, "mode": mode, "passed": True,
            "reason": None, **fields}


def test_jobs_are_every_task_times_every_run_in_order():
    other = load_task("read_fix_write")
    plan = Plan([TASK, other], runs=2)
    assert [(t.id, r) for t, r in plan.jobs()] == [("config_read", 0), ("config_read", 1), ("read_fix_write", 0),
                                                   ("read_fix_write", 1)]
    assert Plan([TASK]).runs == 3 and Plan([TASK]).concurrency == 1 and Plan([TASK]).mode == "raw"
    assert Plan([TASK], loop=LoopSettings(mode="harness")).mode == "harness"


def test_resume_skips_done_runs_and_redoes_infra_errors_other_hashes_and_modes(tmp_path):
    results = ResultsDir(tmp_path)
    for r in [row("h1", "config_read", 0),
              row("h1", "config_read", 1, passed=False, reason="infra_error", ended="infra_error"),
              row("h1", "config_read", 2, passed=False, reason="wrong_answer"),
              row("h2", "config_read", 3),
              row("h1", "config_read", 4, mode="harness"),
              row("h1", "read_fix_write", 5)]:
        results.runs.write(r)
    plan = Plan([TASK], runs=6)
    assert [r for _, r in plan.pending("h1", results)] == [1, 3, 4, 5]
    assert [r for _, r in plan.pending("h2", results)] == [0, 1, 2, 4, 5]
    assert [r for _, r in Plan([TASK], runs=6, loop=LoopSettings(mode="harness")).pending("h1", results)] == \
        [0, 1, 2, 3, 5]


def test_run_all_runs_only_what_is_pending(tmp_path, monkeypatch):
    chats = Chats(passing_script())
    run, results, _ = model_run(tmp_path, monkeypatch, chats, plan=Plan([TASK], runs=3))
    results.runs.write(row("h1", "config_read", 0))
    results.runs.write(row("h1", "config_read", 2, passed=False, reason="infra_error"))
    records = run.run_all()
    assert [r.run for r in records] == [1, 2]
    assert [s.seed for _, s in chats.made] == [run_seed(7, "config_read", 1), run_seed(7, "config_read", 2)]
    assert [r["run"] for r in read_jsonl(tmp_path / "runs.jsonl")] == [0, 2, 1, 2]
    assert run.run_all() == [], "everything recorded: a second pass runs nothing"


def test_concurrent_runs_are_all_recorded_with_their_concurrency(tmp_path, monkeypatch):
    chats = Chats(passing_script())
    run, _, done = model_run(tmp_path, monkeypatch, chats, plan=Plan([TASK], runs=3, concurrency=2))
    records = run.run_all()
    assert sorted(r.run for r in records) == [0, 1, 2] and len(done) == 3
    assert {(r.concurrency, r.passed) for r in records} == {(2, True)}
    assert {t["concurrency"] for t in read_jsonl(tmp_path / "turns.jsonl")} == {2}


def test_concurrent_runs_really_overlap(tmp_path, monkeypatch):
    both = threading.Barrier(2, timeout=20)

    class Meeting:
        def complete(self, messages, tools):
            both.wait()  # with one run at a time this would time out (BrokenBarrierError)
            return answer(RIGHT)

    monkeypatch.setattr(runner, "ChatClient", lambda url, settings: Meeting())
    run = ModelRun(target(), Plan([TASK], runs=2, concurrency=2), ResultsDir(tmp_path))
    records = run.run_all()
    assert sorted(r.run for r in records) == [0, 1]


def test_concurrency_n_runs_at_most_n_at_once(tmp_path, monkeypatch):
    state = threading.Condition()
    arrived, in_flight, most = [0], [0], [0]

    class Counting:
        def complete(self, messages, tools):
            with state:
                arrived[0] += 1
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
                state.notify_all()
                # The first two meet (so two really run at once), then wait briefly for a third to join:
                # it can only when more than two run at once.
                state.wait_for(lambda: in_flight[0] >= 2 or arrived[0] >= 3, timeout=10)
                state.wait_for(lambda: arrived[0] >= 3, timeout=0.5)
                in_flight[0] -= 1
            return answer(RIGHT)

    monkeypatch.setattr(runner, "ChatClient", lambda url, settings: Counting())
    run = ModelRun(target(), Plan([TASK], runs=3, concurrency=2), ResultsDir(tmp_path))
    assert sorted(r.run for r in run.run_all()) == [0, 1, 2]
    assert most[0] == 2


def test_a_crash_in_one_concurrent_run_stops_the_others_and_is_raised(tmp_path, monkeypatch):
    made = []

    class FirstAnswers:
        """The first run answers at once; the others wait until the session is stopping."""

        def __init__(self):
            made.append(self)

        def complete(self, messages, tools):
            if self is not made[0]:
                run.stopping.wait(timeout=10)
            return answer(RIGHT)

    def crash(record):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runner, "ChatClient", lambda url, settings: FirstAnswers())
    run = ModelRun(target(), Plan([TASK], runs=4, concurrency=2), ResultsDir(tmp_path), on_done=crash)
    with pytest.raises(RuntimeError, match="disk full"):
        run.run_all()
    assert run.stopping.is_set()
    # Only the run that crashed was recorded: the one in flight ended unrecorded, the queued never ran.
    assert len(read_jsonl(tmp_path / "runs.jsonl")) == 1


# ---- the model's window and the loop's rules ----

CONFIG_FILES = ["README.md", "config/production.toml", "config/defaults.toml", "pyproject.toml",
                "config/staging.toml", "config/defaults.toml"]


def test_the_models_window_shortens_old_outputs_unless_the_plan_sets_its_own(tmp_path, monkeypatch):
    script = [read(p) for p in CONFIG_FILES] + [answer("Read them.")]
    chats = Chats(script)
    # A window of 40 tokens holds none of it: the two outputs older than the newest four are shortened.
    run, _, _ = model_run(tmp_path / "a", monkeypatch, chats, target=target(context_tokens=40))
    (record,) = run.run_all()
    assert record.context_truncations == 2
    assert "[older output shortened" in chats.sent[-1][3]["content"]
    chats = Chats(script)
    plan = Plan([TASK], runs=1, loop=LoopSettings(context_tokens=1_000_000))
    run, _, _ = model_run(tmp_path / "b", monkeypatch, chats, plan=plan, target=target(context_tokens=40))
    (record,) = run.run_all()
    assert record.context_truncations == 0
    assert all("[older output shortened" not in (m.get("content") or "") for m in chats.sent[-1])
    run, _, _ = model_run(tmp_path / "c", monkeypatch, Chats(script))
    assert run.run_all()[0].context_truncations == 0, "no window known: nothing shortened"


def test_harness_mode_records_its_feedback_rounds(tmp_path, monkeypatch):
    monkeypatch.setattr(Workspace, "run_visible_check", lambda self: (False, "FAILED test_x"))
    plan = Plan([TASK], runs=1, loop=LoopSettings(mode="harness", harness_rounds=2))
    chats = Chats([read("config/production.toml"), answer("first"), answer("second"), answer(RIGHT)])
    run, _, _ = model_run(tmp_path, monkeypatch, chats, plan=plan)
    (record,) = run.run_all()
    assert (record.mode, record.harness_rounds, record.turns, record.passed) == ("harness", 2, 4, True)
    assert record.transcript == "transcripts/m1/config_read-harness-r0.json"
    assert [t["mode"] for t in read_jsonl(tmp_path / "turns.jsonl")] == ["harness"] * 4


def test_raw_mode_records_no_feedback_rounds_even_when_zero(tmp_path, monkeypatch):
    run, _, _ = model_run(tmp_path, monkeypatch, Chats(passing_script()))
    assert run.run_all()[0].harness_rounds is None


def test_no_base_seed_sends_no_seed(tmp_path, monkeypatch):
    chats = Chats(passing_script())
    run, _, _ = model_run(tmp_path, monkeypatch, chats, target=target(seed=None))
    (record,) = run.run_all()
    assert record.seed is None and chats.made[0][1].seed is None


# ---- warm-up ----

def test_warm_up_sends_one_short_request_with_the_tools():
    with ScriptedModel([{"content": "OK"}]) as model:
        t = target(server=StaticServer(model.base_url))
        t.chat.model = "scripted"
        assert warm_up(t) is True
    (body,) = model.requests
    assert body["max_tokens"] == 8 and body["tools"] == TOOL_SCHEMAS
    assert body["messages"] == [{"role": "user", "content": "Say OK."}]
    assert t.chat.max_tokens == 512, "the target's own settings are left alone"


def test_warm_up_against_a_failing_server_says_so():
    with ScriptedModel([{"http_error": 503}]) as model:
        t = target(server=StaticServer(model.base_url))
        assert warm_up(t) is False


# ---- a real harness drives the model (its process replaced here: it needs the harness installed) ----

def test_a_harness_run_records_each_metered_request_and_the_harness_summary(tmp_path, monkeypatch):
    from orchestrator.grading.grade import Grade
    from orchestrator.harness import runner as harness_runner
    from orchestrator.harness.adapter import HarnessOutcome
    from orchestrator.harness.proxy import Metered
    from orchestrator.harness.runner import HarnessResult, HarnessSettings
    from orchestrator.trajectory import Trajectory

    seen = {}

    def fake_harness(task, settings, base_url, served_model, on_request, extra_body=None):
        seen.update(task=task.id, settings=settings, base_url=base_url, model=served_model, extra=extra_body)
        on_request(1, Metered("messages", True, 5000, 12, read("config/production.toml", prompt=40, completion=4,
                                                                reasoning="read the production file")))
        on_request(2, Metered("messages", True, 6000, 12, None, error="refused"))
        on_request(3, Metered("messages", True, 7000, 12, answer(RIGHT, prompt=90, completion=9)))
        traj = Trajectory(turns=2, ended="answer", final_answer=RIGHT)
        return HarnessResult(traj, [{"role": "assistant"}], ["", ""], grade=Grade(True, None, []),
                             outcome=HarnessOutcome("answer", turns=2), version="1.2.3")

    monkeypatch.setattr(harness_runner, "run_harness_task", fake_harness)
    memory = Memory({"server_peak_rss_bytes": 10}, {"server_peak_rss_bytes": 30}, {"server_peak_rss_bytes": 20})
    t = target(memory=memory)
    t.count_tokens = lambda text: len(text.split())
    t.chat.extra_body = {"chat_template_kwargs": {"enable_thinking": False}}
    plan = Plan([TASK], runs=1, harness=HarnessSettings("claude-code", max_turns=10, wall_s=120))
    run, _, _ = model_run(tmp_path, monkeypatch, Chats([]), plan=plan, target=t)
    (record,) = run.run_all()
    assert seen["settings"] == HarnessSettings("claude-code", max_turns=10, wall_s=120, max_tokens=512,
                                               request_timeout_s=9.0)
    assert (seen["task"], seen["base_url"], seen["model"], seen["extra"]) == (
        "config_read", "http://server.test/v1", "served", {"chat_template_kwargs": {"enable_thinking": False}})
    assert (record.mode, record.passed, record.reason, record.harness_rounds, record.turns) == (
        "claude-code", True, None, None, 2)
    assert (record.prompt_tokens, record.completion_tokens, record.peak_rss_bytes) == (130, 13, 20)
    assert record.harness["harness_version"] == "1.2.3" and record.harness["requests"] == 0
    turns = read_jsonl(tmp_path / "turns.jsonl")
    assert [(t["turn"], t["api"], t["request_bytes"], t["warm"], t["mode"], t["thinking_tokens"],
             t["thinking_tokens_source"]) for t in turns] == [
        (1, "messages", 5000, False, "claude-code", 4, "tokenizer"),
        (3, "messages", 7000, True, "claude-code", 0, "tokenizer")]
    transcript = json.loads((tmp_path / record.transcript).read_text())
    assert transcript["harness"]["harness_version"] == "1.2.3"
    assert record.transcript == "transcripts/m1/config_read-claude-code-r0.json"

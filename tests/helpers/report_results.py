"""A results folder with known outcomes, written through records.py's own models and writer.

Two models:
- alpha (mlx, single stream, has meta.json): raw and harness runs; one raw run lost to infra_error;
  one raw run recorded twice (a wrong_fix, then after a resume a pass: the pass must win); one run
  whose first attempt's turns (a bogus 40 GiB, 100 s TTFT) were replaced by a retry; one run with
  unknown thinking figures.
- beta (vllm, concurrency 2, no meta.json): raw runs only, every thinking figure unknown.

The expected numbers are written out by hand in the tests, not computed by the report code.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.results.records import ResultsDir, RunRecord, TurnRecord

GIB = 1024**3
TIERS = {"config_read": "basic", "read_fix_write": "basic", "tdd": "intermediate"}


def _run(model, task, run, passed, reason=None, mode="raw", **kw) -> RunRecord:
    fields = dict(model=model, config_hash=f"hash-{model}", backend="mlx" if model == "alpha" else "vllm",
                  task=task, tier=TIERS[task], run=run, mode=mode, passed=passed, reason=reason,
                  turns=4, tool_calls=3, malformed_calls=0, wall_s=10.0, prompt_tokens=1000)
    fields.update(kw)
    return RunRecord(**fields)


def run_record(task, n, passed, mode, **kw) -> RunRecord:
    """One run of model "m" on llama.cpp, a wrong_fix when it failed: what the raw-vs-harness tests vary."""
    fields = dict(model="m", config_hash="h", backend="llamacpp", task=task, tier="basic", run=n, mode=mode,
                  passed=passed, reason=None if passed else "wrong_fix", turns=4, tool_calls=3, malformed_calls=0,
                  wall_s=10.0, prompt_tokens=1000, completion_tokens=100)
    fields.update(kw)
    return RunRecord(**fields)


def _turn(model, task, run, turn, **kw) -> TurnRecord:
    return TurnRecord(model=model, config_hash=f"hash-{model}", task=task, run=run, turn=turn, **kw)


ALPHA_RAW = [
    # task, run, passed, reason, wall_s, thinking_tokens, thinking_s, completion_tokens, malformed
    ("config_read", 0, True, None, 10.0, 100, 1.0, 400, 0),
    ("config_read", 1, True, None, 20.0, 200, 2.0, 400, 0),
    ("config_read", 2, True, None, 30.0, None, None, 300, 0),
    ("read_fix_write", 0, True, None, 40.0, 300, 3.0, 1000, 0),
    ("read_fix_write", 1, False, "wrong_fix", 50.0, 500, 5.0, 1000, 2),
    ("read_fix_write", 2, False, "wrong_fix", 999.0, 9999, 99.0, 9999, 9),  # replaced after the resume
    ("tdd", 0, True, None, 70.0, 600, 6.0, 1200, 0),
    ("tdd", 2, False, "out_of_turns", 90.0, 900, 9.0, 1000, 0),
]


def write_two_models(root: Path) -> Path:
    results = ResultsDir(root)
    for task, run, passed, reason, wall, think, think_s, completion, malformed in ALPHA_RAW:
        results.runs.write(_run("alpha", task, run, passed, reason, wall_s=wall, thinking_tokens=think,
                                thinking_s=think_s, completion_tokens=completion, malformed_calls=malformed))
    results.runs.write(_run("alpha", "tdd", 1, False, "infra_error", ended="infra_error", wall_s=5.0,
                            error="connection refused", attempts=3))
    # the resume: same key (hash-alpha, read_fix_write, 2, raw), now a pass; the last record wins
    results.runs.write(_run("alpha", "read_fix_write", 2, True, wall_s=60.0, thinking_tokens=50,
                            thinking_s=0.5, completion_tokens=500))
    for task, fails in (("config_read", 0), ("read_fix_write", 0), ("tdd", 1)):
        for run in range(3):
            failed = run < fails
            results.runs.write(_run("alpha", task, run, not failed, "no_verification" if failed else None,
                                    mode="harness", turns=9, prompt_tokens=5000, completion_tokens=2000,
                                    wall_s=100.0, harness_rounds=run + 1, thinking_tokens=1000))
    beta = {"config_read": [True, True, "wrong_answer"], "read_fix_write": ["wrong_fix", "wrong_fix", "looping"],
            "tdd": [True, True, True]}
    for task, outcomes in beta.items():
        for run, outcome in enumerate(outcomes):
            results.runs.write(_run("beta", task, run, outcome is True, None if outcome is True else outcome,
                                    turns=2, tool_calls=1, concurrency=2, completion_tokens=300))
    _write_turns(results)
    results.write_json(results.model_dir("alpha") / "meta.json",
                       {"model": "alpha", "config_hash": "hash-alpha", "backend": "mlx", "load_s": 12.5,
                        "memory_after_load_bytes": 9 * GIB})
    results.close()
    return root


def _write_turns(results: ResultsDir) -> None:
    w = results.turns.write
    # alpha, config_read: the server's first answer is cold (its 9 s TTFT is load cost, not speed)
    w(_turn("alpha", "config_read", 0, 1, ttft_s=9.0, decode_tps=5.0, prefill_tps=10.0, warm=False,
            server_peak_rss_bytes=10 * GIB))
    w(_turn("alpha", "config_read", 0, 2, ttft_s=0.5, decode_tps=20.0, prefill_tps=200.0,
            server_peak_rss_bytes=10 * GIB))
    w(_turn("alpha", "config_read", 1, 1, ttft_s=0.7, decode_tps=22.0, prefill_tps=300.0,
            server_peak_rss_bytes=11 * GIB))
    w(_turn("alpha", "config_read", 1, 2, ttft_s=0.9, decode_tps=24.0, prefill_tps=250.0,
            server_peak_rss_bytes=12 * GIB))
    w(_turn("alpha", "config_read", 2, 1, ttft_s=1.1, decode_tps=18.0, prefill_tps=100.0,
            server_peak_rss_bytes=int(11.5 * GIB)))
    w(_turn("alpha", "config_read", 2, 2, ttft_s=2.0, decode_tps=26.0, prefill_tps=400.0,
            server_peak_rss_bytes=int(12.5 * GIB)))
    # alpha, tdd run 1: a first attempt that died (bogus figures), then the retry from turn 1
    w(_turn("alpha", "tdd", 1, 1, ttft_s=100.0, decode_tps=1.0, server_peak_rss_bytes=40 * GIB))
    w(_turn("alpha", "tdd", 1, 2, ttft_s=100.0, decode_tps=1.0, server_peak_rss_bytes=40 * GIB))
    w(_turn("alpha", "tdd", 1, 1, ttft_s=0.6, decode_tps=21.0, server_peak_rss_bytes=11 * GIB))
    w(_turn("alpha", "tdd", 1, 2, ttft_s=0.8, decode_tps=23.0, server_peak_rss_bytes=11 * GIB))
    w(_turn("alpha", "tdd", 1, 3, ttft_s=None, decode_tps=None, server_peak_rss_bytes=12 * GIB))
    # beta: two runs in flight at once; vLLM's reservation shows as GPU memory
    for run, (ttft, decode) in enumerate(((0.2, 30.0), (0.4, 40.0), (0.3, 50.0))):
        w(_turn("beta", "tdd", run, 1, ttft_s=ttft, decode_tps=decode, prefill_tps=1000.0 * (run + 1),
                server_peak_rss_bytes=2 * GIB, gpu_used_bytes=70 * GIB, concurrency=2))


# ---- a thinking model run three ways (off / on / budget-128) on one launch --------------------------
# Per turn: (finish_reason, completion_tokens, thinking_tokens, source, thinking_s, wall_s, decode_tps)
THINKER_CAP = 512
THINKER = {
    "off": {"config_read": [(True, None, [("tool_calls", 50, 0, "tokenizer", 0.0, 1.0, 50.0),
                                          ("stop", 30, 0, "tokenizer", 0.0, 0.5, 60.0)]),
                            (True, None, [("tool_calls", 50, 0, "tokenizer", 0.0, 1.0, 50.0),
                                          ("stop", 30, 0, "tokenizer", 0.0, 0.5, 60.0)])]},
    "on": {"config_read": [(True, None, [("tool_calls", 300, 250, "tokenizer", 5.0, 10.0, 30.0),
                                         ("stop", 100, 80, "tokenizer", 2.0, 4.0, 30.0)]),
                           # the embedded default's first run: 512 tokens of repeated text, cut by the cap
                           (False, "no_tool_calls", [("length", 512, 512, "estimate", 16.0, 17.0, 32.0)])]},
    "budget-128": {"config_read": [(True, None, [("tool_calls", 200, 128, "server_usage", 4.0, 6.0, 40.0),
                                                 ("stop", 40, 0, "server_usage", 0.0, 1.0, 40.0)]),
                                   (False, "wrong_answer", [("tool_calls", 220, 128, "server_usage", 4.0, 7.0, 40.0),
                                                            ("stop", 60, 20, "server_usage", 1.0, 2.0, 40.0)])]},
}
LOOP_TEXT = "I will read the file now. " * 80
HOSTILE_RESULT = "port: 8080\n<script>alert('x')</script>"


def _thinker_transcript(model: str, variant: str, run: int, turns: list) -> dict:
    messages = [{"role": "system", "content": "You are a coding agent."},
                {"role": "user", "content": "What port does the server listen on? Read config.yaml."}]
    reasoning, raw = [], []
    for n, (finish, *_rest) in enumerate(turns, start=1):
        if finish == "tool_calls":
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": f"c{n}", "type": "function",
                 "function": {"name": "read_file", "arguments": '{"path": "config.yaml"}'}}]})
            messages.append({"role": "tool", "tool_call_id": f"c{n}", "content": HOSTILE_RESULT})
        elif finish == "length":
            messages.append({"role": "assistant", "content": LOOP_TEXT})
        else:
            messages.append({"role": "assistant", "content": f"The server listens on port 8080 ({variant})."})
        reasoning.append("" if variant == "off" else f"thinking about turn {n} of run {run}")
        raw.append(messages[-1]["content"] or "" if finish != "tool_calls" else "")
    return {"model": model, "task": "config_read", "run": run, "mode": "raw", "messages": messages,
            "reasoning": reasoning, "assistant_raw": raw, "error": None}


def write_thinking_variants(root: Path, model: str = "thinker") -> Path:
    """A thinking model, its three variants served by one launch (one meta.json lists them)."""
    results = ResultsDir(root)
    for variant, tasks in THINKER.items():
        for task, runs in tasks.items():
            for run, (passed, reason, turns) in enumerate(runs):
                # as the session writes them: the records name the variant on disk (`model+variant`)
                # and by its config hash; the launch's meta.json maps the hash to model and variant
                base = dict(model=f"{model}+{variant}", config_hash=f"h-{variant}", task=task, run=run)
                for n, (finish, made, thought, source, think_s, wall, decode) in enumerate(turns, start=1):
                    results.turns.write(TurnRecord(**base, turn=n, finish_reason=finish, completion_tokens=made,
                                                   thinking_tokens=thought, thinking_tokens_source=source,
                                                   thinking_s=think_s, wall_s=wall, decode_tps=decode, ttft_s=0.25,
                                                   prompt_tokens=900, server_peak_rss_bytes=2 * GIB))
                path = results.transcript_path(f"{model}+{variant}", task, "raw", run)
                results.write_json(path, _thinker_transcript(model, variant, run, turns))
                rel = str(path.relative_to(root))
                if variant == "off" and run == 1:
                    rel = "../../../etc/passwd"  # a record pointing out of its folder is not followed
                checks = [{"name": "answer", "passed": passed, "detail": "states every value" if passed
                           else "missing ['8080']"}]
                results.runs.write(RunRecord(
                    **base, backend="vllm", tier="basic", passed=passed, reason=reason, turns=len(turns),
                    tool_calls=sum(t[0] == "tool_calls" for t in turns), malformed_calls=0,
                    wall_s=sum(t[5] for t in turns) + 3.0, checks=checks,
                    completion_tokens=sum(t[1] for t in turns), thinking_tokens=sum(t[2] for t in turns),
                    thinking_s=sum(t[4] for t in turns), transcript=rel))
    results.write_json(results.model_dir(model) / "meta.json", {
        "model": model, "backend": "vllm", "load_s": 30.0, "config": {"sampling": {"max_tokens": THINKER_CAP}},
        "variants": [{"name": v, "config_hash": f"h-{v}"} for v in THINKER]})
    results.close()
    return root

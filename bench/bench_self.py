"""siliconbench's own performance figures, printed (not asserted: timed tests are flaky on shared machines).

    python bench/bench_self.py [--turns 200] [--skip-llama]

1. Harness overhead per turn against the scripted model: the time a turn takes outside the model
   call and outside the tool execution (loop bookkeeping, record building, the JSONL writes).
   Goal: median under 2 ms.
2. The memory sampler's CPU cost: CPU seconds it burns per wall second while sampling a process tree.
3. siliconbench's measured decode tokens/s against llama-server's own `timings.predicted_per_second`,
   on the embedded default model, as a ratio in one run. Goal: within 5%.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator.agent.chat_client import ChatClient, ChatSettings  # noqa: E402
from orchestrator.agent.loop import LoopSettings, run_agent  # noqa: E402
from orchestrator.results.records import ResultsDir  # noqa: E402
from orchestrator.taskdef import load_task, system_prompt  # noqa: E402
from orchestrator.workspace.tool_schemas import TOOL_SCHEMAS  # noqa: E402
from orchestrator.metrics.turn_record import build_turn_record  # noqa: E402
from orchestrator.workspace.workspace import Workspace  # noqa: E402
from tests.helpers.scripted_server import ScriptedModel  # noqa: E402


class Timed:
    """Wraps an object and adds up the seconds spent in one of its methods."""

    def __init__(self, inner, method: str):
        self.inner, self.method, self.spent = inner, method, []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name != self.method:
            return attr

        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.spent.append(time.perf_counter() - t)
        return timed


def harness_overhead(turns: int) -> list[float]:
    task = load_task("config_read")
    script = [{"tool_calls": [{"name": "read_file", "arguments": {"path": "README.md"}}]}] * (turns - 1)
    with ScriptedModel(script + [{"content": "done"}]) as model, tempfile.TemporaryDirectory() as tmp:
        results = ResultsDir(Path(tmp))
        chat = Timed(ChatClient(model.base_url, ChatSettings(model="scripted")), "complete")
        turn_ends: list[float] = []

        def on_turn(turn, result, events):
            rec = build_turn_record(dict(model="m", config_hash="h", task=task.id, run=0), turn, result,
                                    len(events), 0, {}, None, warm=True)
            results.turns.write(rec)
            turn_ends.append(time.perf_counter())

        with Workspace.create(task) as ws:
            tools = Timed(ws, "call")
            start = time.perf_counter()
            run_agent(task.prompt, system_prompt(), TOOL_SCHEMAS, chat, tools,
                      LoopSettings(max_turns=turns), on_turn)
        results.close()
    walls = [b - a for a, b in zip([start] + turn_ends[:-1], turn_ends)]
    tool_times = tools.spent + [0.0] * (len(walls) - len(tools.spent))
    return [w - c - t for w, c, t in zip(walls, chat.spent, tool_times)]


def sampler_cost(seconds: float = 5.0) -> tuple[float, int]:
    from orchestrator.metrics.memory import MemorySampler

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        sampler = MemorySampler(child.pid)
        sampler.start()
        time.sleep(seconds)
        sampler.stop()
        return sampler.cpu_seconds / seconds, sampler.samples
    finally:
        child.kill()
        child.wait()


def decode_ratio(requests: int = 5) -> list[tuple[float, float]]:
    from backends import launch
    from orchestrator.config import default_config_path, load_config

    config = load_config(default_config_path())
    pairs = []
    log = Path(tempfile.gettempdir()) / "siliconbench-bench-server.log"
    with launch(config, log_path=log) as server:
        chat = ChatClient(server.base_url, ChatSettings(model=server.model_name, max_tokens=200, temperature=0.0))
        for i in range(requests):
            r = chat.complete([{"role": "user", "content": f"Write a long story about robot number {i}."}], None)
            if r.metrics.decode_tps and r.metrics.server_decode_tps:
                pairs.append((r.metrics.decode_tps, r.metrics.server_decode_tps))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--skip-llama", action="store_true")
    args = parser.parse_args()

    overhead_ms = sorted(x * 1000 for x in harness_overhead(args.turns))
    p90 = overhead_ms[int(len(overhead_ms) * 0.9)]
    print(f"harness overhead per turn (outside model call and tools), {len(overhead_ms)} turns: "
          f"median {statistics.median(overhead_ms):.2f} ms, p90 {p90:.2f} ms (goal: median < 2 ms)")

    share, samples = sampler_cost()
    print(f"memory sampler: {share * 100:.2f}% of one core while sampling ({samples} samples in 5 s)")

    if args.skip_llama:
        return
    pairs = decode_ratio()
    for ours, theirs in pairs:
        print(f"  decode tok/s: siliconbench {ours:7.1f}   llama-server {theirs:7.1f}   ratio {ours / theirs:.3f}")
    if pairs:
        ratio = statistics.median(o / t for o, t in pairs)
        print(f"measured / llama-server decode tok/s: median ratio {ratio:.3f} (goal: within 0.95-1.05)")


if __name__ == "__main__":
    main()

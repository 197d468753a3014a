#!/usr/bin/env python3
"""A stand-in for llama-server, for the faults a real server cannot be made to show on cue.

It accepts llama-server's command line (the launcher's real argv), serves the scripted model's
OpenAI-compatible API on --port, and misbehaves as `--mode` says:
  ok               behave
  exit_at_start    print a fatal error and exit 3 before listening
  never_ready      never listen (a server stuck loading)
  ignore_sigterm   ignore SIGTERM (only SIGKILL stops it)
  spawn_children   start a child in its group and a grandchild in a session of its own
  die_after=N      exit abruptly after answering N chat requests
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.helpers.scripted_server import ScriptedModel  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", default="ok")
    args, _ = parser.parse_known_args()
    mode = args.mode
    print(f"stand-in server, mode {mode}", flush=True)
    if mode == "exit_at_start":
        print("error: failed to load model: file is corrupt", flush=True)
        sys.exit(3)
    if mode == "never_ready":
        while True:
            time.sleep(1)
    if mode == "ignore_sigterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if mode == "spawn_children":
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        child = subprocess.Popen(sleeper)
        grandchild = subprocess.Popen(sleeper, start_new_session=True)
        print(f"children {child.pid} {grandchild.pid}", flush=True)
    model = ScriptedModel([], model="standin", final_content="ok", port=args.port)
    if mode.startswith("die_after="):
        limit = int(mode.split("=", 1)[1])
        model.on_request = lambda n: os._exit(1) if n > limit else None
    with model:
        while True:
            time.sleep(1)


if __name__ == "__main__":
    main()

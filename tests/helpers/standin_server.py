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
  worker_shm=PATH  start a worker that maps a /dev/shm segment and, on SIGTERM, takes 1.5 s to clean
                   up, writes "clean" to PATH and exits leaving the segment behind (as vLLM's workers
                   can); the server itself exits at once on SIGTERM
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
    parser.add_argument("--marker", default="")
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
    if mode.startswith("worker_shm="):
        worker = subprocess.Popen([sys.executable, __file__, "--port", "0", "--mode", "shm_worker",
                                   "--marker", mode.split("=", 1)[1]])
        print(f"worker {worker.pid}", flush=True)
    if mode == "shm_worker":
        shm_worker(args.marker)
        return
    model = ScriptedModel([], model="standin", final_content="ok", port=args.port)
    if mode.startswith("die_after="):
        limit = int(mode.split("=", 1)[1])
        model.on_request = lambda n: os._exit(1) if n > limit else None
    with model:
        while True:
            time.sleep(1)


def shm_worker(marker: str) -> None:
    import mmap

    name = f"/dev/shm/psm_standin_{os.getpid()}"
    fd = os.open(name, os.O_CREAT | os.O_RDWR, 0o600)
    os.ftruncate(fd, 4096)
    segment = mmap.mmap(fd, 4096)  # mapped, as a worker's shared-memory broadcast buffer is
    segment[:5] = b"hello"

    def cleanup(signum, frame):
        time.sleep(1.5)  # releasing its resources: a SIGKILL now would lose this
        Path(marker).write_text("clean")
        os._exit(0)  # ...but it leaves the segment behind, as a killed worker would

    signal.signal(signal.SIGTERM, cleanup)
    print(f"segment {name}", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()

"""Real coding-agent harnesses (Claude Code, OpenCode, mini-swe-agent) run beside the raw benchmark.

One adapter file a harness (its pinned version, install step, config, command line and output parser),
a metering proxy between the harness and the model server that records every request like a raw
turn, and a runner that gives the task to the harness in a fresh fixture copy inside bubblewrap and
grades the final workspace with the same graders as raw runs.
"""

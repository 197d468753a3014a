"""The folders tell the data flow: each package imports only packages below it, and never the CLI.

config -> backend -> loop (agent, workspace tools) -> grading -> records on disk -> report. The order
below is that flow; a module may import its own package and any package listed before it. Backend
names live in backends/ and in the configs, nowhere else in the orchestrator.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORCH = ROOT / "orchestrator"

# Lowest first. Root modules are named by their module name; packages by their folder.
LAYERS = [
    {"errors"},
    {"config", "taskdef", "trajectory", "units"},
    {"results"},
    {"agent", "metrics"},
    {"workspace"},
    {"grading"},
    {"backends", "sizing"},
    {"session", "harness"},
    {"report"},
    {"cli"},
]
RANK = {name: i for i, group in enumerate(LAYERS) for name in group}


def unit_of(module: str) -> str | None:
    """'orchestrator.agent.loop' -> 'agent'; 'backends.vllm' -> 'backends'; outside ones -> None."""
    parts = module.split(".")
    if parts[0] == "backends":
        return "backends"
    if parts[0] != "orchestrator" or len(parts) < 2:
        return None
    return parts[1]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
    return out


def module_files():
    for path in sorted(list(ORCH.rglob("*.py")) + list((ROOT / "backends").rglob("*.py"))):
        if "sandbox_site" in path.parts:
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        yield path, ".".join(rel.parts)


def test_every_package_has_a_layer():
    units = {unit_of(name) for _, name in module_files()} - {None, "__init__", "__main__"}
    assert units, "no modules found"
    assert units <= set(RANK), f"packages without a layer: {sorted(units - set(RANK))}"


def test_no_module_imports_a_higher_layer_or_relative():
    upward = []
    for path, name in module_files():
        src_unit = unit_of(name)
        if src_unit in (None, "__init__"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                upward.append(f"{name}: relative import (use the absolute path, so moves stay visible)")
        for target in imports_of(path):
            dst_unit = unit_of(target)
            if dst_unit is None or dst_unit == src_unit or dst_unit == "__version__":
                continue
            if dst_unit not in RANK:
                continue
            if RANK[dst_unit] > RANK[src_unit]:
                upward.append(f"{name} ({src_unit}) imports {target} ({dst_unit})")
    assert not upward, "\n".join(upward)


def test_the_cli_is_imported_by_nothing():
    offenders = [name for path, name in module_files() if unit_of(name) != "cli"
                 and any(t.startswith("orchestrator.cli") for t in imports_of(path))]
    assert not offenders


def test_no_import_circle_between_modules():
    graph = {}
    names = {name for _, name in module_files()}
    for path, name in module_files():
        graph[name] = {t for t in imports_of(path) if t in names}
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in graph.get(node, ()):
            visit(nxt)
        stack.pop()

    for node in graph:
        visit(node)
    assert not cycles, cycles[:3]


BACKEND_NAMES = ("llamacpp", "llama-server", "llama_server", "mlx", "vllm", "ollama", "lmstudio")


def test_no_backend_name_is_branched_on_outside_backends():
    """A comparison or a key lookup on a backend name belongs in that backend's module."""
    pattern = re.compile(r"""(==|!=|\bin\b|\bis\b)\s*\(?\s*["'](%s)["']|["'](%s)["']\s*(==|!=)"""
                         % ("|".join(BACKEND_NAMES), "|".join(BACKEND_NAMES)))
    found = []
    for path in sorted(ORCH.rglob("*.py")):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not found, "\n".join(found)

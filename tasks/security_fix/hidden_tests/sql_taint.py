"""Is any SQL text passed to execute() built from a function's arguments? (the hidden AST check)

A parameterised query keeps input out of the SQL text. This follows, inside each function, which
names hold a value derived from the function's parameters (through assignments, +=, f-strings, %,
.format, .replace, concatenation...) and reports every execute/executemany/executescript call whose
SQL argument is derived from them. What cleans a value: int(), float(), len(), bool(), and an
expression that only repeats constants as many times as the input has items ("?" placeholders:
", ".join("?" for _ in ids), ["?"] * len(ids)). A module-level helper that passes one of its own
parameters into execute() makes that parameter a sink too, so `_run(conn, "..." + name)` is caught.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

SINKS = {"execute", "executemany", "executescript"}
CLEANERS = {"int", "float", "len", "bool"}
MUTATORS = {"append", "extend", "insert", "add", "update", "appendleft", "setdefault"}


@dataclass
class Finding:
    function: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.function} (line {self.line}): {self.why}"


def _derived(node: ast.AST | None, tainted: set[str]) -> bool:
    """Does the value of `node` depend on a tainted name (outside a cleaner)?"""
    if node is None:
        return False
    if isinstance(node, ast.Name):
        return node.id in tainted
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in CLEANERS:
            return False
        if isinstance(func, ast.Attribute) and func.attr == "join" and node.args:
            arg = node.args[0]
            if isinstance(arg, (ast.GeneratorExp, ast.ListComp)) and not _derived(arg.elt, tainted):
                return _derived(func.value, tainted)  # "?" repeated once per item: only the count leaks
        return any(_derived(n, tainted) for n in [func, *node.args, *[k.value for k in node.keywords]])
    if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
        return _derived(node.elt, tainted | _comp_targets(node, tainted))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        # ["?"] * len(ids) or "?, " * n: a constant repeated is not the input's text
        for const, count in ((node.left, node.right), (node.right, node.left)):
            if isinstance(const, (ast.Constant, ast.List, ast.Tuple)) and not _derived(const, tainted):
                return False
    if isinstance(node, ast.Lambda):
        return False
    return any(_derived(child, tainted) for child in ast.iter_child_nodes(node))


def _comp_targets(node: ast.AST, tainted: set[str]) -> set[str]:
    names = set()
    for gen in getattr(node, "generators", []):
        if _derived(gen.iter, tainted):
            names |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
    return names


def _target_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _params(fn: ast.FunctionDef) -> list[str]:
    a = fn.args
    return [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]] + \
        [p.arg for p in (a.vararg, a.kwarg) if p is not None]


def _sql_arg(call: ast.Call) -> ast.AST | None:
    if call.args:
        return call.args[0]
    for kw in call.keywords:
        if kw.arg in ("sql", "query", "sql_script", "statement"):
            return kw.value
    return None


class _FunctionScan:
    def __init__(self, fn: ast.FunctionDef, sinks: dict[str, set[int]], tainted_params: set[str]):
        self.fn, self.sinks = fn, sinks
        self.tainted = set(tainted_params)
        self.findings: list[Finding] = []
        self.sink_params: set[int] = set()

    def run(self, params: list[str]) -> None:
        self._block(self.fn.body, top=True)
        self.findings = list({(f.line, f.why): f for f in self.findings}.values())

    def _block(self, body: list[ast.stmt], top: bool) -> None:
        for stmt in body:
            self._stmt(stmt, top)

    def _stmt(self, stmt: ast.stmt, top: bool) -> None:
        """In order. Only an unconditional assignment of a clean value clears a name (`limit =
        int(limit)`); inside a branch or loop taint only grows, and loop bodies run twice so a name
        tainted late in the body is known at its earlier use."""
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return  # scanned on its own
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            self._exprs(stmt, skip_bodies=True)
            if isinstance(stmt, (ast.For, ast.AsyncFor)) and _derived(stmt.iter, self.tainted):
                self.tainted |= _target_names(stmt.target)
            for _ in range(2):
                self._block(stmt.body, top=False)
            self._block(stmt.orelse, top=False)
            return
        if isinstance(stmt, (ast.If, ast.With, ast.AsyncWith, ast.Try)):
            self._exprs(stmt, skip_bodies=True)
            if isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None and _derived(item.context_expr, self.tainted):
                        self.tainted |= _target_names(item.optional_vars)
            for field in ("body", "orelse", "finalbody"):
                self._block(getattr(stmt, field, []), top=False)
            for handler in getattr(stmt, "handlers", []):
                self._block(handler.body, top=False)
            return
        self._exprs(stmt, skip_bodies=False)
        value = getattr(stmt, "value", None)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = set().union(*(_target_names(t) for t in targets))
            if _derived(value, self.tainted):
                self.tainted |= names
            elif top and all(isinstance(t, ast.Name) for t in targets):
                self.tainted -= names
        elif isinstance(stmt, ast.AugAssign) and _derived(stmt.value, self.tainted):
            self.tainted |= _target_names(stmt.target)

    def _exprs(self, stmt: ast.stmt, skip_bodies: bool) -> None:
        """Calls (sinks) and walrus assignments in the statement's own expressions."""
        roots = [stmt]
        if skip_bodies:
            roots = [v for k, v in ast.iter_fields(stmt) if k not in ("body", "orelse", "finalbody", "handlers")]
            roots = [r for v in roots for r in (v if isinstance(v, list) else [v]) if isinstance(r, ast.AST)]
        for root in roots:
            for node in ast.walk(root):
                if isinstance(node, ast.NamedExpr) and _derived(node.value, self.tainted):
                    self.tainted |= _target_names(node.target)
                if isinstance(node, ast.Call):
                    self._call(node)
                    self._mutation(node)

    def _mutation(self, call: ast.Call) -> None:
        """`parts.append(f"... '{name}'")` taints `parts` (then " AND ".join(parts) is tainted too)."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS and isinstance(func.value, ast.Name):
            if any(_derived(a, self.tainted) for a in [*call.args, *[k.value for k in call.keywords]]):
                self.tainted.add(func.value.id)

    def _call(self, call: ast.Call) -> None:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name in SINKS:
            sql = _sql_arg(call)
            if _derived(sql, self.tainted):
                self.findings.append(Finding(self.fn.name, call.lineno, f"SQL text passed to .{name}() is built "
                                             f"from the arguments ({ast.unparse(sql)[:80]})"))
            return
        for index in self.sinks.get(name or "", set()):
            arg = call.args[index] if index < len(call.args) else None
            if _derived(arg, self.tainted):
                self.findings.append(Finding(self.fn.name, call.lineno, f"argument {index + 1} of {name}() reaches "
                                             f"execute() and is built from the arguments"))


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _called_names(trees: list[ast.Module]) -> set[str]:
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                names.add(f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else "")
    return names


def scan_sources(sources: dict[str, str]) -> list[Finding]:
    """Findings over several modules at once (a helper in one module may be called from another)."""
    trees = {name: ast.parse(src) for name, src in sources.items()}
    functions = [(name, fn) for name, tree in trees.items() for fn in _functions(tree)]
    # Which parameters of which functions flow into execute(), to a fixpoint (helpers of helpers).
    sinks: dict[str, set[int]] = {}
    changed = True
    while changed:
        changed = False
        for _, fn in functions:
            params = _params(fn)
            for i, p in enumerate(params):
                if i in sinks.get(fn.name, set()):
                    continue
                scan = _FunctionScan(fn, sinks, {p})
                scan.run(params)
                if scan.findings:
                    sinks.setdefault(fn.name, set()).add(i)
                    changed = True
    called = _called_names(list(trees.values()))
    findings = []
    for module, fn in functions:
        params = _params(fn)
        # A helper the package calls is judged where it is called (its sink parameters, through
        # `sinks`); a function nobody here calls is an entry point: all its parameters are input.
        tainted = set() if fn.name in called else set(params)
        scan = _FunctionScan(fn, sinks, tainted)
        scan.run(params)
        findings += [Finding(f"{module}:{f.function}", f.line, f.why) for f in scan.findings]
    return findings

"""security_fix's AST check (tasks/security_fix/hidden_tests/sql_taint.py): SQL text built from a
function's arguments is found however it is built, and parameterised styles are not flagged."""

import importlib.util
import sys

import pytest

from orchestrator.taskdef import load_task

TASK = load_task("security_fix")
_spec = importlib.util.spec_from_file_location("security_fix_sql_taint", TASK.hidden_tests / "sql_taint.py")
sql_taint = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = sql_taint  # dataclasses look their module up
_spec.loader.exec_module(sql_taint)


def findings(src):
    return [str(f) for f in sql_taint.scan_sources({"m.py": src})]


def test_the_fixture_flags_exactly_the_vulnerable_functions():
    sources = {p.name: p.read_text() for p in sorted((TASK.repo / "store").glob("*.py"))}
    flagged = sorted(f.function for f in sql_taint.scan_sources(sources))
    assert flagged == sorted(["users.py:find_user", "users.py:set_email", "products.py:search_products",
                              "products.py:products_in_category", "products.py:rename_product",
                              "reports.py:revenue_by_category", "reports.py:orders_since",
                              "reports.py:customers_who_bought"])


@pytest.mark.parametrize("src", [
    'def a(conn, name):\n    return conn.execute("SELECT 1 WHERE n = ?", (name,))\n',
    'def a(conn, ids):\n    ph = ", ".join("?" for _ in ids)\n    return conn.execute(f"SELECT 1 WHERE id IN ({ph})", ids)\n',
    'def a(conn, ids):\n    return conn.execute("SELECT 1 WHERE id IN (%s)" % ",".join(["?"] * len(ids)), ids)\n',
    'def a(conn, pid, n):\n    return conn.execute("UPDATE t SET n = ? WHERE id = " + str(int(pid)), (n,))\n',
    'def a(conn, limit):\n    limit = int(limit)\n    return conn.execute(f"SELECT 1 LIMIT {limit}")\n',
    'def _q(conn, sql, p=()):\n    return conn.execute(sql, p)\n\ndef a(conn, c):\n    sql = "SELECT 1"\n'
    '    p = []\n    if c:\n        sql += " WHERE c = ?"\n        p.append(c)\n    return _q(conn, sql, p)\n',
    'def a(conn, n):\n    return conn.execute("UPDATE t SET n = :n", {"n": n})\n',
    'def a(conn, c):\n    where, params = [], []\n    if c:\n        where.append("c = ?")\n        params.append(c)\n'
    '    return conn.execute("SELECT 1 WHERE " + " AND ".join(where or ["1"]), params)\n',
])
def test_parameterised_styles_pass(src):
    assert findings(src) == []


@pytest.mark.parametrize("src", [
    'def a(conn, n):\n    n = n.replace("\'", "\'\'")\n    return conn.execute(f"SELECT 1 WHERE n = \'{n}\'")\n',
    'def _q(conn, sql):\n    return conn.execute(sql)\n\ndef a(conn, n):\n    return _q(conn, "SELECT \'%s\'" % n)\n',
    'def a(conn, d):\n    sql = "SELECT 1 WHERE d >= \'{}\'".format(d)\n    return conn.execute(sql)\n',
    'def a(conn, c=None):\n    w = ""\n    for x in [c]:\n        w += " AND c = \'" + x + "\'"\n    return conn.execute("SELECT 1" + w)\n',
    'def a(conn, c):\n    if c:\n        sql = "SELECT \'" + c + "\'"\n    else:\n        sql = "SELECT 1"\n    return conn.execute(sql)\n',
    'def a(conn, pid):\n    return conn.execute("DELETE FROM t WHERE id = " + str(pid))\n',
    'def a(conn, n):\n    return conn.cursor().executescript(f"UPDATE t SET n = \'{n}\'")\n',
    'def a(conn, c):\n    where = []\n    if c:\n        where.append(f"c = \'{c}\'")\n'
    '    return conn.execute("SELECT 1 WHERE " + " AND ".join(where or ["1"]))\n',
])
def test_sql_built_from_arguments_is_found(src):
    assert findings(src), src

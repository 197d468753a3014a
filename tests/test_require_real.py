"""SILICONBENCH_REQUIRE_REAL=1 (CI) turns a skip for a missing real part into a failure.

Runs pytest on a small test file in a child process with the suite's conftest as a plugin, the way CI
would meet such a skip (a decorator, a call inside the test, a module-level importorskip).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = '''
import pytest

@pytest.mark.skipif(True, reason="llama-server not installed")
def test_decorated():
    pass

def test_inside():
    pytest.skip("Chromium is not installed")

@pytest.mark.platform_skip
@pytest.mark.skipif(True, reason="Mac only")
def test_platform():
    pass

@pytest.mark.xfail(reason="known", strict=False)
def test_xfail():
    assert False

def test_passes():
    pass
'''
MODULE_SKIP = 'import pytest\npytest.importorskip("no_such_module_siliconbench")\n\ndef test_x():\n    pass\n'


def run_pytest(folder: Path, require: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SILICONBENCH_REQUIRE_REAL"}
    if require is not None:
        env["SILICONBENCH_REQUIRE_REAL"] = require
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
                           "-p", "no:randomly", "-rA", "-q", str(folder)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


@pytest.fixture
def sample(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "conftest.py").write_text("")  # no rootdir conftest of ours: only the -p plugin
    (tmp_path / "test_module_skip.py").write_text(MODULE_SKIP)
    return tmp_path


def test_without_the_switch_skips_stay_skips(sample):
    out = run_pytest(sample / "test_sample.py", None)
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("1 passed, 3 skipped, 1 xfailed in "), out
    assert run_pytest(sample / "test_module_skip.py", None).strip().splitlines()[-1].startswith("1 skipped in ")


@pytest.mark.parametrize("value", ["1", "yes"])
def test_with_the_switch_a_missing_part_fails(sample, value):
    out = run_pytest(sample / "test_sample.py", value)
    summary = out.strip().splitlines()[-1]
    # test_decorated (skipped at setup: an error) and test_inside (skipped in the call: a failure) fail;
    # the platform skip stays a skip and an xfail is no skip.
    assert summary.startswith("1 failed, 1 passed, 1 skipped, 1 xfailed, 1 error in "), out
    for name in ("test_decorated", "test_inside"):
        assert any(name in line and line.startswith(("FAILED", "ERROR")) for line in out.splitlines()), (name, out)
    assert "llama-server not installed" in out and "SILICONBENCH_REQUIRE_REAL=1" in out
    module = run_pytest(sample / "test_module_skip.py", value)  # a module-level importorskip
    assert module.strip().splitlines()[-1].startswith("1 error in "), module


def test_ci_sets_the_switch_and_runs_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "SILICONBENCH_REQUIRE_REAL=1" in ci
    lines = [l.strip() for l in ci.splitlines() if l.strip() and not l.strip().startswith("#")]
    assert "bash scripts/install.sh --all" in lines and lines[-1] == "pytest"

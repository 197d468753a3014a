"""Suite-wide switches.

SILICONBENCH_REQUIRE_REAL=1 (set by .ci/run) turns every skip into a failure: in CI a real server,
mlx, vLLM CPU, Chromium or bubblewrap that cannot run must fail the build, not vanish into "skipped".
A skip that is right on some platform whatever is installed (a Mac-only check on Linux) carries
`@pytest.mark.platform_skip` and stays a skip.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_REAL_ENV = "SILICONBENCH_REQUIRE_REAL"


def require_real() -> bool:
    return os.environ.get(REQUIRE_REAL_ENV, "").strip() not in ("", "0")


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_configure(config):
    config.addinivalue_line("markers", "platform_skip: a skip that is right on this platform whatever is "
                                       f"installed; allowed under {REQUIRE_REAL_ENV}=1")


def _as_failure(report, where: str) -> None:
    report.outcome = "failed"
    report.longrepr = (f"{where} skipped ({_reason(report)}), but {REQUIRE_REAL_ENV}=1 requires every real "
                       "part to run: install it (bash scripts/install.sh --all)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (require_real() and report.skipped and not hasattr(report, "wasxfail")
            and item.get_closest_marker("platform_skip") is None):
        _as_failure(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if require_real() and report.skipped:  # a module-level importorskip / skip(allow_module_level=True)
        _as_failure(report, collector.nodeid)

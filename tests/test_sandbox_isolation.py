"""Which isolation model commands get (bwrap on Linux, Seatbelt on macOS, else none), the refusal without
one unless the user passed --unsafe-no-sandbox, and what a results folder records about it. The probes
themselves are scripted here; the real ones run in test_sandbox_profiles.py (doctor) and the escapes."""

from __future__ import annotations

import pytest

from orchestrator.errors import UserError
from orchestrator.workspace import bwrap, cgroups, isolation
from orchestrator.workspace.isolation import UNSAFE_ENV, Isolation


@pytest.fixture
def probe(monkeypatch):
    """detect() re-run with scripted probes; its cache is cleared before and after."""
    real_detect = isolation.detect
    real_detect.cache_clear()
    monkeypatch.setenv(UNSAFE_ENV, "0")  # recorded, so whatever a test sets is undone after it
    monkeypatch.delenv(UNSAFE_ENV)
    yield monkeypatch
    real_detect.cache_clear()


def test_the_flag_name_reaches_child_processes_through_this_variable():
    assert UNSAFE_ENV == "SILICONBENCH_UNSAFE_NO_SANDBOX"


def test_linux_uses_bwrap_when_it_starts_and_says_who_commands_run_as(probe):
    probe.setattr(isolation.sys, "platform", "linux")
    probe.setattr(bwrap, "bwrap_works", lambda: (True, "bubblewrap 0.9.0"))
    probe.setattr(bwrap, "sandbox_uid", lambda: 1_234_567)
    assert isolation.detect() == ("bwrap", "bubblewrap 0.9.0; each workspace's commands run as a uid of its own")
    isolation.detect.cache_clear()
    probe.setattr(bwrap, "sandbox_uid", lambda: None)
    assert isolation.detect() == ("bwrap", "bubblewrap 0.9.0; commands run as this user")


def test_linux_without_a_working_bwrap_has_none_and_says_why(probe):
    probe.setattr(isolation.sys, "platform", "linux")
    probe.setattr(bwrap, "bwrap_works", lambda: (False, "bwrap is not installed"))
    assert isolation.detect() == ("none", "bwrap is not installed")


def test_macos_uses_seatbelt_when_it_starts(probe):
    from orchestrator.workspace import seatbelt

    probe.setattr(isolation.sys, "platform", "darwin")
    probe.setattr(seatbelt, "seatbelt_works", lambda: (True, "sandbox-exec"))
    assert isolation.detect() == ("seatbelt", "sandbox-exec")
    isolation.detect.cache_clear()
    probe.setattr(seatbelt, "seatbelt_works", lambda: (False, "/usr/bin/sandbox-exec is missing"))
    assert isolation.detect() == ("none", "/usr/bin/sandbox-exec is missing")


def test_another_platform_has_no_sandbox(probe):
    probe.setattr(isolation.sys, "platform", "win32")
    assert isolation.detect() == ("none", "no sandbox known for win32")


def test_detect_probes_only_once(probe):
    calls = []
    probe.setattr(isolation.sys, "platform", "linux")
    probe.setattr(bwrap, "bwrap_works", lambda: calls.append(1) or (False, "x"))
    isolation.detect()
    isolation.detect()
    assert calls == [1]


@pytest.mark.parametrize("name, unsafe, usable", [("bwrap", False, True), ("seatbelt", False, True),
                                                  ("none", False, False), ("none", True, True)])
def test_a_sandbox_or_the_unsafe_flag_makes_commands_usable(name, unsafe, usable):
    assert Isolation(name, "d", unsafe).usable is usable


def test_the_refusal_says_why_and_how_to_go_on():
    text = Isolation("none", "bwrap is not installed", False).refusal
    assert text.startswith("no sandbox on this machine (bwrap is not installed)")
    assert "--unsafe-no-sandbox" in text


def test_the_unsafe_flag_is_set_and_cleared_in_the_environment(probe):
    import os

    isolation.allow_unsafe()
    assert os.environ[UNSAFE_ENV] == "1"
    isolation.allow_unsafe(False)
    assert UNSAFE_ENV not in os.environ
    isolation.allow_unsafe(False)  # clearing twice is fine
    isolation.allow_unsafe(True)
    assert os.environ[UNSAFE_ENV] == "1"


def test_only_the_value_1_allows_running_uncontained(probe):
    probe.setattr(isolation, "detect", lambda: ("none", "why"))
    assert isolation.current_isolation() == Isolation("none", "why", False)
    probe.setenv(UNSAFE_ENV, "0")
    assert isolation.current_isolation().unsafe_allowed is False
    probe.setenv(UNSAFE_ENV, "1")
    assert isolation.current_isolation() == Isolation("none", "why", True)


def test_require_isolation_refuses_without_a_sandbox_and_passes_with_the_flag(probe):
    probe.setattr(isolation, "detect", lambda: ("none", "bwrap is not installed"))
    with pytest.raises(UserError) as refused:
        isolation.require_isolation()
    assert str(refused.value) == Isolation("none", "bwrap is not installed", False).refusal
    assert isolation.require_isolation(unsafe_no_sandbox=True) == Isolation("none", "bwrap is not installed", True)


def test_require_isolation_with_a_sandbox_never_sets_the_flag(probe):
    import os

    probe.setattr(isolation, "detect", lambda: ("bwrap", "v"))
    assert isolation.require_isolation() == Isolation("bwrap", "v", False)
    assert UNSAFE_ENV not in os.environ


def test_describe_records_the_sandbox_and_its_cgroup(probe):
    probe.setattr(isolation, "detect", lambda: ("bwrap", "bubblewrap 0.9.0"))
    probe.setattr(cgroups, "probe", lambda: "v2")
    assert isolation.describe() == {"isolation": "bwrap", "detail": "bubblewrap 0.9.0", "unsafe_no_sandbox": False,
                                    "cgroup": "v2"}
    probe.setenv(UNSAFE_ENV, "1")  # a sandbox there: the flag changes nothing
    assert isolation.describe()["unsafe_no_sandbox"] is False and isolation.describe()["isolation"] == "bwrap"


def test_describe_records_running_uncontained(probe):
    probe.setattr(isolation, "detect", lambda: ("none", "no bwrap"))
    probe.setattr(cgroups, "probe", lambda: "v2")  # never asked without bwrap
    assert isolation.describe() == {"isolation": "none", "detail": "no bwrap", "unsafe_no_sandbox": False,
                                    "cgroup": "none"}
    probe.setenv(UNSAFE_ENV, "1")
    assert isolation.describe() == {"isolation": "none (unsafe)", "detail": "no bwrap", "unsafe_no_sandbox": True,
                                    "cgroup": "none"}
    probe.setattr(isolation, "detect", lambda: ("seatbelt", "sb"))
    assert isolation.describe() == {"isolation": "seatbelt", "detail": "sb", "unsafe_no_sandbox": False,
                                    "cgroup": "none"}


def test_which_sandbox_exec_prefers_path_then_the_system_one(probe):
    probe.setattr(isolation.shutil, "which", lambda name: f"/found/{name}")
    assert isolation.which_sandbox_exec() == "/found/sandbox-exec"
    probe.setattr(isolation.shutil, "which", lambda name: None)
    probe.setattr(isolation.os.path, "exists", lambda p: p == "/usr/bin/sandbox-exec")
    assert isolation.which_sandbox_exec() == "/usr/bin/sandbox-exec"
    probe.setattr(isolation.os.path, "exists", lambda p: False)
    assert isolation.which_sandbox_exec() is None

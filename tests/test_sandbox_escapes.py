"""Hostile scripts run through `run_command`, as root and as an unprivileged user: nothing outside the
workspace is read or written, no network is reached, no process outlives its command, no limit is
exhausted, and siliconbench itself survives. Each attack prints BLOCKED or ESCAPED per attempt, and
every attempt must have run and been blocked; what an escape would leave on the host is checked too.

All cases of one user run in one driver process (tests/helpers/hostile_driver.py) to keep this fast.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import psutil
import pytest

from tests.helpers.hostile_cases import PRELUDE, SECRET_NAME, WHO, assert_all_blocked, outputs, run_cases

TAG = uuid.uuid4().hex[:10]
MARK = f"/tmp/sb-escape-{TAG}"
DAEMON = f"sb-daemon-{TAG}"


def script_case(case_id: str, body: str, **extra) -> dict:
    return {"id": case_id, "files": {"attack.py": PRELUDE + body}, "calls": [["run_command", {"command": "python attack.py"}]],
            **extra}


def command_case(case_id: str, commands: list[str]) -> dict:
    return {"id": case_id, "calls": [["run_command", {"command": c}] for c in commands]}


READS = {
    "proc_environ": f"""
def callers_env():
    for pid in [os.getppid(), 1] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:
        try:
            if b'{SECRET_NAME}' in open(f'/proc/{{pid}}/environ', 'rb').read():
                return pid
        except OSError:
            pass
attempt('environ', callers_env)
attempt('own_env', lambda: '{SECRET_NAME}' in os.environ)
""",
    "system_secrets": """
attempt('shadow', lambda: open('/etc/shadow').read())
attempt('passwd', lambda: open('/etc/passwd').read())
attempt('root_home', lambda: [e for e in os.listdir('/root') if not (sys.base_prefix + '/').startswith('/root/' + e + '/')])
attempt('home', lambda: os.listdir('/home'))
attempt('ssh_keys', lambda: os.listdir('/etc/ssh'))
""",
    "installed_tasks": """
attempt('hidden_tests', lambda: os.listdir('{TASKS_DIR}/full_debug_cycle/hidden_tests'))
attempt('trajectories', lambda: os.listdir('{TASKS_DIR}/full_debug_cycle/trajectories'))
def anywhere():
    for top in sys.path + ['/root', '/tmp', '/work', '/home', '/opt', '/srv']:
        for dirpath, dirnames, filenames in os.walk(top):
            if 'hidden_tests' in dirnames or 'trajectories' in dirnames:
                return dirpath
attempt('hidden_anywhere', anywhere)
""",
    "other_workspace": """
attempt('other_ws', lambda: os.listdir('{OTHER_WS}'))
attempt('other_ws_file', lambda: open('{OTHER_WS}/shop/pricing.py').read())
def beside_runtime(folder):  # the folders on the way to the Python runtime are there by design
    return [e for e in os.listdir(folder) if not (sys.base_prefix + '/').startswith(os.path.join(folder, e) + '/')]
attempt('callers_home', lambda: beside_runtime('{HOME}'))
attempt('tmp_of_host', lambda: [e for e in os.listdir('/tmp') if e.startswith('sb-') and not os.getcwd().startswith('/tmp/' + e)])
""",
    "links_out": """
os.symlink('/etc', 'etc_link'); os.symlink('{OTHER_WS}', 'ws_link')
attempt('etc_via_link', lambda: open('etc_link/hostname').read())
attempt('ws_via_link', lambda: os.listdir('ws_link'))
""",
}

WRITES = {
    "proc_root": f"""
# Each lands, at most, in the sandbox's own /tmp: the host check after the run says where it went.
attempt('ppid_root', lambda: open(f'/proc/{{os.getppid()}}/root{MARK}-proc', 'w').write('x') and False)
attempt('init_root', lambda: open('/proc/1/root{MARK}-init', 'w').write('x') and False)
attempt('self_root_tmp', lambda: open('/proc/self/root{MARK}-self', 'w').write('x') and False)
""",
    "remount": f"""
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
attempt('remount_usr', lambda: check(libc.mount(None, b'/usr', None, MS_REMOUNT | MS_BIND, None)))
attempt('remount_root', lambda: check(libc.mount(None, b'/', None, MS_REMOUNT, None)))
attempt('write_usr', lambda: open('/usr/sb-escape-{TAG}', 'w').write('x'))
attempt('mount_tmpfs_on_usr', lambda: check(libc.mount(b'none', b'/usr/lib', b'tmpfs', 0, None)))
""",
    "namespaces": f"""
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x20000, 0x10000000, 0x40000000
attempt('setns_mnt_ppid', lambda: check(libc.setns(os.open(f'/proc/{{os.getppid()}}/ns/mnt', os.O_RDONLY), 0)))
attempt('setns_mnt_init', lambda: check(libc.setns(os.open('/proc/1/ns/mnt', os.O_RDONLY), CLONE_NEWNS)))
def nested_userns():
    check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS))
    check(libc.mount(None, b'/usr', None, 32 | 4096, None))
    return open('/usr/sb-escape-{TAG}', 'w').write('x')
attempt('nested_userns_remount', nested_userns)
""",
    "devices_links_pth": f"""
import site
attempt('dev_file', lambda: open('/dev/sb-evil', 'w').write('x'))
attempt('mknod', lambda: os.mknod('sda', 0o600 | 0o60000, os.makedev(8, 0)) or os.path.exists('sda'))
attempt('hardlink_python', lambda: os.link(sys.executable, 'py_link') or True)
attempt('hardlink_limiter', lambda: os.link('/run/siliconbench/sandbox_exec.py', 'lim_link') or True)
def pth():
    # The venv's and the caller's own user site: a .pth there runs in the next siliconbench process.
    # (The sandbox's HOME is the workspace's private one: a .pth there reaches only its own commands.)
    user_site = os.path.join('{{HOME}}', '.local', 'lib', f'python{{sys.version_info[0]}}.{{sys.version_info[1]}}', 'site-packages')
    for d in site.getsitepackages() + [user_site]:
        try:
            open(os.path.join(d, 'sb_evil_{TAG}.pth'), 'w').write('import os')  # only where it exists
            return d
        except OSError:
            pass
attempt('pth', pth)
attempt('tasks_dir', lambda: open('{{TASKS_DIR}}/full_debug_cycle/hidden_tests/evil.py', 'w').write('x'))
attempt('host_tmp', lambda: open('{MARK}-tmp', 'w').write('x') and False)
""",
}

PROCESSES = {
    "daemon": f"""
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', '{DAEMON}'])
    os._exit(0)
time.sleep(0.3)
print('BLOCKED:daemon_started:waiting for the host check', flush=True)
""",
    "cgroup_escape": """
def leave():
    for path in ['/sys/fs/cgroup/cgroup.procs', '/sys/fs/cgroup/pids/cgroup.procs', '/sys/fs/cgroup/memory/cgroup.procs']:
        try:
            open(path, 'w').write(str(os.getpid()))
            return path
        except OSError:
            pass
attempt('cgroup_procs', leave)
attempt('sys_visible', lambda: os.listdir('/sys'))
""",
    "kill_parent": """
attempt('see_host_processes', lambda: [p for p in os.listdir('/proc') if p.isdigit() and int(p) > 100])
attempt('kill_ppid', lambda: os.kill(os.getppid(), 9) or os.getppid() != 1 and 'killed a host process')
""",
}

NETWORK_TEMPLATE = """
import _socket
def tcp(host, fam):
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(2); s.connect((host, {port})); return 'connected'
def raw_c():
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM); s.settimeout(2); s.connect(('127.0.0.1', {port})); return 'connected'
def unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(2); s.connect(path); return 'connected'
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'escape', ('127.0.0.1', {udp_port})); return False
def setns_net():
    check(libc.setns(os.open(f'/proc/{{os.getppid()}}/ns/net', os.O_RDONLY), 0x40000000)); return tcp('127.0.0.1', socket.AF_INET)
attempt('tcp4', lambda: tcp('127.0.0.1', socket.AF_INET))
attempt('tcp6', lambda: tcp('::1', socket.AF_INET6))
attempt('_socket', raw_c)
attempt('unix_path', lambda: unix({unix_path!r}))
attempt('unix_abstract', lambda: unix({abstract!r}))
attempt('udp', udp)
attempt('setns_net', setns_net)
attempt('dns', lambda: socket.getaddrinfo('example.com', 80))
"""

LIMITS = {
    "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                  {"timeout_s": 4, "cpu_s": 4}),
    "memory_held": ("import os, time\nkids = []\nfor _ in range(6):\n    pid = os.fork()\n    if pid == 0:\n"
                    "        block = b'x' * (300 * 2**20)\n        time.sleep(3)\n        os._exit(0)\n"
                    "    kids.append(pid)\nif all(os.waitpid(pid, 0)[1] == 0 for pid in kids):\n    print('HELD all of it')\n",
                    {"timeout_s": 20, "total_memory_bytes": 500 * 2**20}),
    "disk_filled": ("import os\nblock = b'x' * (4 * 2**20)\nfor i in range(120):\n    open(f'fill{i}.bin', 'wb').write(block)\n"
                    "print('WROTE 480 MB')\n", {"timeout_s": 20, "disk_bytes": 40 * 2**20}),
    "many_files": ("import os\nos.mkdir('many')\nfor i in range(100_000):\n    open(f'many/{i}', 'w').close()\n"
                   "print('MADE 100k files')\n", {"timeout_s": 30, "max_files": 3000}),
}


@pytest.fixture(scope="module")
def listeners():
    tcp = socket.create_server(("127.0.0.1", 0))
    try:
        tcp6 = socket.create_server(("::1", tcp.getsockname()[1]), family=socket.AF_INET6)
    except OSError:  # no IPv6 on this host: the sandbox's attempt is still made and must fail
        tcp6 = None
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    unix_path = f"/tmp/sb-sock-{TAG}"
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(unix_path)
    os.chmod(unix_path, 0o777)
    unix.listen()
    abstract = f"\0sb-abstract-{TAG}"
    unix_abs = socket.socket(socket.AF_UNIX)
    unix_abs.bind(abstract)
    unix_abs.listen()
    for s in (tcp, unix, unix_abs, tcp6):
        if s:
            s.settimeout(0.2)
    yield {"port": tcp.getsockname()[1], "udp_port": udp.getsockname()[1], "unix_path": unix_path,
           "abstract": abstract, "sockets": [tcp, unix, unix_abs, *([tcp6] if tcp6 else [])], "udp": udp}
    for s in (tcp, udp, unix, unix_abs, tcp6):
        if s:
            s.close()
    os.unlink(unix_path)


def _cases(listeners) -> list[dict]:
    cases = [script_case(k, v, other_workspace=True) for k, v in {**READS, **WRITES, **PROCESSES}.items()]
    cases.append(script_case("network", NETWORK_TEMPLATE.format(**{k: listeners[k] for k in
                                                                  ("port", "udp_port", "unix_path", "abstract")})))
    cases.append(command_case("readonly_tools", [
        "wc --files0-from=/etc/passwd", "find -L / -maxdepth 2 -name passwd", "find . -L -name x",
        "grep -r root /etc", "grep -f/etc/passwd README.md", "head --lines=3 /etc/passwd", "cat /proc/1/environ",
        "ls -la /root", "tail -n1 ../../../etc/passwd", "grep -e root -- /etc/passwd", "ls --directory=/etc",
    ]))
    for name, (body, limits) in LIMITS.items():
        cases.append({"id": name, "files": {"attack.py": body}, "limits": limits,
                      "calls": [["run_command", {"command": "python attack.py"}]],
                      "grade": name == "many_files"})
    return cases


@pytest.fixture(scope="module", params=WHO)
def results(request, listeners):
    got = run_cases(request.param, _cases(listeners))
    got["_who"] = request.param
    return got


def _host_untouched() -> None:
    leftovers = [p for p in Path("/tmp").glob(f"sb-escape-{TAG}*")]
    assert not leftovers, leftovers
    assert not Path(f"/usr/sb-escape-{TAG}").exists()


def test_nothing_outside_the_workspace_can_be_read(results):
    for case, names in {"proc_environ": ["environ", "own_env"],
                        "system_secrets": ["shadow", "passwd", "root_home", "home", "ssh_keys"],
                        "installed_tasks": ["hidden_tests", "trajectories", "hidden_anywhere"],
                        "other_workspace": ["other_ws", "other_ws_file", "callers_home", "tmp_of_host"],
                        "links_out": ["etc_via_link", "ws_via_link"]}.items():
        assert_all_blocked(results[case], names)
    assert "hunter2" not in outputs(results["proc_environ"])


def test_readonly_tools_refuse_paths_hidden_in_options(results):
    result = results["readonly_tools"]
    assert not result["errors"]
    for text in result["results"]:
        assert text.startswith("error:"), text
        assert "root:x:0" not in text


def test_nothing_outside_the_workspace_can_be_written(results):
    assert_all_blocked(results["proc_root"], ["ppid_root", "init_root", "self_root_tmp"])
    assert_all_blocked(results["remount"], ["remount_usr", "remount_root", "write_usr", "mount_tmpfs_on_usr"])
    assert_all_blocked(results["namespaces"], ["setns_mnt_ppid", "setns_mnt_init", "nested_userns_remount"])
    assert_all_blocked(results["devices_links_pth"], ["dev_file", "mknod", "hardlink_python", "hardlink_limiter",
                                                      "pth", "tasks_dir", "host_tmp"])
    _host_untouched()
    import site

    for d in site.getsitepackages():
        assert not list(Path(d).glob(f"sb_evil_{TAG}*.pth"))


def test_no_network_of_any_kind(results, listeners):
    assert_all_blocked(results["network"], ["tcp4", "tcp6", "_socket", "unix_path", "unix_abstract", "udp",
                                            "setns_net", "dns"])
    for s in listeners["sockets"]:  # nothing arrived, though every listener was up the whole time
        with pytest.raises((TimeoutError, socket.timeout, BlockingIOError)):
            s.accept()
    with pytest.raises((TimeoutError, socket.timeout)):
        listeners["udp"].recvfrom(64)


def test_no_process_outlives_its_command_or_escapes_its_group(results):
    assert "BLOCKED:daemon_started" in outputs(results["daemon"])
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if DAEMON in " ".join(p.info["cmdline"] or [])]
    assert not left, f"a daemon outlived its command: {left}"
    assert_all_blocked(results["cgroup_escape"], ["cgroup_procs", "sys_visible"])
    assert_all_blocked(results["kill_parent"], ["kill_ppid", "see_host_processes"])


def test_a_fork_bomb_ends_at_its_time_limit(results):
    result = results["fork_bomb"]
    assert not result["errors"] and result["wall_s"][-1] < 12
    assert "time limit" in result["results"][-1] or "killed" in result["results"][-1]


def test_memory_held_across_processes_is_capped(results):
    result = results["memory_held"]
    text = result["results"][-1]
    assert "HELD all of it" not in text and not result["errors"], text
    assert result["wall_s"][-1] < 15, "killed by the cap, not by the time limit"


def test_the_workspace_cannot_fill_the_disk(results):
    result = results["disk_filled"]
    text = result["results"][-1]
    assert "WROTE 480 MB" not in text and "disk space" in text, text
    assert result["ws_bytes"] < 300 * 2**20


def test_a_hundred_thousand_files_are_stopped_and_grading_stays_bounded(results):
    result = results["many_files"]
    text = result["results"][-1]
    assert "MADE 100k files" not in text and "number of files" in text, text
    assert result["ws_entries"] < 100_000
    assert result["grade"] is not None and not result["grade"]["passed"]
    assert result["grade_s"] < 30, "grading a workspace full of files must stay quick"

"""What a model command leaves behind that no later reader should meet: FIFOs, sockets, device nodes and
links that lead out of the workspace are removed (and named), everything else stays; and a workspace
made unremovable (`chmod 000`) is still removed, without touching what a link inside points at."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from orchestrator.workspace import hygiene
from orchestrator.workspace.hygiene import remove_special_files, remove_tree
from tests.helpers.sandbox_fixtures import awkward_scandir


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "keep.py").write_text("x = 1\n")
    (root / "sub" / "deeper" / "data.txt").write_text("d")
    return root


def test_fifos_and_sockets_anywhere_in_the_tree_are_removed_and_named(ws):
    os.mkfifo(ws / "top.fifo")
    os.mkfifo(ws / "sub" / "deeper" / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(ws / "sub" / "s.sock"))
    server.close()
    removed = remove_special_files(ws)
    assert sorted(removed) == ["sub/deeper/pipe (FIFO)", "sub/s.sock (socket)", "top.fifo (FIFO)"]
    assert not (ws / "top.fifo").exists() and not (ws / "sub" / "s.sock").exists()
    assert not os.path.lexists(ws / "sub" / "deeper" / "pipe")
    assert (ws / "keep.py").read_text() == "x = 1\n" and (ws / "sub" / "deeper" / "data.txt").read_text() == "d"


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root (CAP_MKNOD)")
def test_a_device_node_is_removed(ws):
    os.mknod(ws / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    assert remove_special_files(ws) == ["null (device)"]
    assert not os.path.lexists(ws / "null")


def test_links_out_of_the_workspace_go_and_links_inside_stay(ws, tmp_path):
    (tmp_path / "outside.txt").write_text("secret")
    (ws / "abs_out").symlink_to("/etc")
    (ws / "sub" / "rel_out").symlink_to("../../outside.txt")
    (ws / "dangling_out").symlink_to("/no/such/place")
    (ws / "inside").symlink_to("keep.py")
    (ws / "sub" / "up_inside").symlink_to("../keep.py")
    (ws / "dir_inside").symlink_to("sub")
    removed = remove_special_files(ws)
    assert sorted(removed) == ["abs_out (link out of the workspace)", "dangling_out (link out of the workspace)",
                               "sub/rel_out (link out of the workspace)"]
    assert (ws / "inside").is_symlink() and (ws / "sub" / "up_inside").is_symlink() and (ws / "dir_inside").is_symlink()
    assert (tmp_path / "outside.txt").read_text() == "secret"  # the link went, never its target


def test_a_loop_of_links_leads_nowhere_and_is_removed(ws):
    (ws / "a").symlink_to("a")
    assert remove_special_files(ws) == ["a (link out of the workspace)"]


def test_a_linked_folder_is_never_entered(ws, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.mkfifo(elsewhere / "their.fifo")
    (ws / "sub" / "into").symlink_to("../sub")  # inside, so kept; a walk through it would loop
    os.symlink(elsewhere, ws / "out")
    assert remove_special_files(ws) == ["out (link out of the workspace)"]
    assert (elsewhere / "their.fifo").exists()


def test_a_workspace_reached_through_a_link_is_judged_by_its_real_place(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "f").write_text("x")
    (real / "inside").symlink_to(real / "f")
    (tmp_path / "alias").symlink_to(real)
    assert remove_special_files(tmp_path / "alias") == []
    assert (real / "inside").is_symlink()


def test_a_clean_workspace_is_left_as_it_is(ws):
    assert remove_special_files(ws) == []
    assert remove_special_files(ws / "missing") == []


def test_a_folder_that_cannot_be_listed_or_an_entry_that_vanished_does_not_end_the_walk(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    for d in ("a_ok", "z_locked"):
        (root / d).mkdir(parents=True)
    os.mkfifo(root / "a_ok" / "a.fifo")
    (root / "a_ok" / "0_vanished").touch()
    os.mkfifo(root / "a_ok" / "z.fifo")
    awkward_scandir(monkeypatch)
    assert sorted(remove_special_files(root)) == ["a_ok/a.fifo (FIFO)", "a_ok/z.fifo (FIFO)"]


def test_the_walk_is_bounded(ws, monkeypatch):
    monkeypatch.setattr(hygiene, "MAX_ENTRIES", 2)
    os.mkfifo(ws / "sub" / "deeper" / "late.fifo")
    # the top has 2 entries (keep.py, sub): at the bound it still enters sub (3), past it no deeper
    assert remove_special_files(ws) == []
    assert (ws / "sub" / "deeper" / "late.fifo").exists()
    monkeypatch.setattr(hygiene, "MAX_ENTRIES", 3)
    assert remove_special_files(ws) == ["sub/deeper/late.fifo (FIFO)"]


def test_the_default_bound_matches_the_graders_walk():
    assert hygiene.MAX_ENTRIES == 20_000


def test_remove_tree_opens_every_folder_before_removing_it(tmp_path, monkeypatch):
    top = tmp_path / "ws"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "b" / "f").write_text("x")
    os.chmod(top / "a" / "b", 0)
    os.chmod(top / "a", 0)
    os.chmod(top, 0)
    seen = {}
    real_rmtree = __import__("shutil").rmtree

    def recording_rmtree(path, ignore_errors=False):
        for p in (top, top / "a", top / "a" / "b"):
            seen[p.name] = stat.S_IMODE(os.lstat(p).st_mode)
        assert ignore_errors is True
        real_rmtree(path, ignore_errors=ignore_errors)

    monkeypatch.setattr("shutil.rmtree", recording_rmtree)
    remove_tree(top)
    assert seen == {"ws": 0o700, "a": 0o700, "b": 0o700}
    assert not os.path.lexists(top)


def test_remove_tree_never_changes_what_a_link_inside_points_at(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.chmod(outside, 0o751)
    top = tmp_path / "ws"
    top.mkdir()
    (top / "link").symlink_to(outside)
    remove_tree(top)
    assert not os.path.lexists(top)
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o751 and outside.is_dir()


def test_remove_tree_of_nothing_never_raises(tmp_path):
    assert remove_tree(tmp_path / "gone") is None
    assert not (tmp_path / "gone").exists()

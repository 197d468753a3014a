"""The Mac catalog as data: faithful to MACS.md, overridable by the user, this Mac from MLX."""

import sys

import pytest
import yaml

from orchestrator.errors import UserError
from orchestrator.sizing.catalog import GIB, ENV_VAR, load_catalog, options, select, this_mac


def by_id(entries):
    return {e.id: e for e in entries}


def test_catalog_holds_every_machine_of_macs_md():
    macs = by_id(load_catalog())
    assert len(macs) == 19
    ultra = macs["studio-2025-m3-ultra"]
    assert (ultra.bandwidth_gbs, ultra.memory_gb, ultra.prices_usd) == (819, [96, 256, 512], {96: 3999})
    assert macs["mini-2024-m4"].prices_usd == {16: 599} and macs["mini-2024-m4"].bandwidth_gbs == 120
    assert {macs["mbp-2026-m5-max-32"].bandwidth_gbs, macs["mbp-2026-m5-max-40"].bandwidth_gbs} == {460, 614}


def test_uncertain_values_are_flagged():
    macs = by_id(load_catalog())
    assert "memory_gb" in macs["mbp-2023-m3-max-30"].uncertain  # 96 GB unconfirmed
    assert "prices_usd" in macs["studio-2025-m4-max-40"].uncertain  # ~2,499 approx.
    assert "memory_gb" in macs["studio-2025-m3-ultra"].uncertain  # 512 GB reportedly pulled
    assert not macs["studio-2022-m1-max"].uncertain


def test_options_expand_memory_sizes_with_their_prices():
    opts = {o.label: o for o in options(load_catalog())}
    assert opts["Mac mini (2024) M4 10-core GPU 16 GB"].price_usd == 599
    assert opts["Mac mini (2024) M4 10-core GPU 24 GB"].price_usd is None


def test_override_file_replaces_fields_by_id_and_adds_machines(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"macs": [
        {"id": "mini-2024-m4", "prices_usd": {16: 499, 24: 799}},
        {"id": "my-hackintosh", "machine": "Mac", "chip": "M9", "memory_gb": [1024], "bandwidth_gbs": 2000},
    ]}))
    macs = by_id(load_catalog(path))
    assert macs["mini-2024-m4"].prices_usd == {16: 499, 24: 799}
    assert macs["mini-2024-m4"].bandwidth_gbs == 120, "fields not named stay"
    assert macs["my-hackintosh"].memory_gb == [1024]
    assert len(macs) == 20


def test_override_can_replace_the_catalog_and_comes_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "only.yaml"
    path.write_text(yaml.safe_dump({"replace": True, "macs": [
        {"id": "one", "machine": "Mac", "chip": "M4", "memory_gb": [16]}]}))
    monkeypatch.setenv(ENV_VAR, str(path))
    assert [e.id for e in load_catalog()] == ["one"]


@pytest.mark.parametrize("content, words", [
    ({"macs": [{"id": "new-one", "machine": "Mac"}]}, ["new-one", "chip", "required"]),
    ({"macs": [{"id": "mini-2024-m4", "bandwidth": 1}]}, ["mini-2024-m4", "bandwidth", "not permitted"]),
    ({"macs": [{"machine": "Mac"}]}, ["needs an `id`"]),
    ({"machines": []}, ["top-level `macs:`"]),
])
def test_bad_override_is_one_line_naming_the_file(tmp_path, content, words):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(UserError) as err:
        load_catalog(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message, (word, message)


def test_select_by_id_or_name_and_unknown_lists_the_valid_ids():
    entries = load_catalog()
    assert [e.id for e in select(entries, "mini-2024-m4")] == ["mini-2024-m4"]
    assert {e.id for e in select(entries, "M3 Ultra")} == {"studio-2025-m3-ultra"}
    with pytest.raises(UserError) as err:
        select(entries, "M7 Hyper")
    assert "'M7 Hyper'" in str(err.value) and "studio-2025-m3-ultra" in str(err.value)


def test_this_mac_takes_mlx_limit_and_bandwidth_of_its_chip_and_size():
    entries = load_catalog()
    mine = this_mac(entries, chip_brand="Apple M4 Max", total_bytes=36 * GIB, working_set_bytes=int(27.5 * GIB))
    assert mine.bandwidth_gbs == 410, "36 GB means the 32-core GPU part"
    assert mine.wired_limit_gb == {36: 27.5}
    assert options([mine])[0].measured_wired_limit_gb == 27.5
    unknown = this_mac(entries, chip_brand="Apple M9", total_bytes=16 * GIB, working_set_bytes=None)
    assert unknown.bandwidth_gbs is None and "bandwidth_gbs" in unknown.uncertain and unknown.wired_limit_gb == {}


@pytest.mark.platform_skip
@pytest.mark.skipif(sys.platform == "darwin", reason="off a Mac there is no 'this Mac' entry")
def test_no_this_mac_entry_off_a_mac():
    assert this_mac(load_catalog()) is None

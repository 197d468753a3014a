"""The Mac catalog as data: Apple's figures per chip and GPU bin, overridable by the user, this Mac from MLX."""

import sys

import pytest
import yaml

from orchestrator.errors import UserError
from orchestrator.sizing.catalog import (
    ENV_VAR, GIB, find_bin, load_catalog, options, select, select_options, this_mac,
)
from orchestrator.sizing.chips import fp16_tflops


def by_id(entries):
    return {e.id: e for e in entries}


# chip -> (bandwidth GB/s by GPU bin, memory options by GPU bin), from Apple's tech specs (MACS.md)
CHIPS = {
    "M1": ({7: 68.25, 8: 68.25}, {7: [8, 16], 8: [8, 16]}),
    "M1 Pro": ({14: 200, 16: 200}, {14: [16, 32], 16: [16, 32]}),
    "M1 Max": ({24: 400, 32: 400}, {24: [32, 64], 32: [32, 64]}),
    "M1 Ultra": ({48: 800, 64: 800}, {48: [64, 128], 64: [64, 128]}),
    "M2": ({8: 100, 10: 100}, {8: [8, 16, 24], 10: [8, 16, 24]}),
    "M2 Pro": ({16: 200, 19: 200}, {16: [16, 32], 19: [16, 32]}),
    "M2 Max": ({30: 400, 38: 400}, {30: [32, 64], 38: [32, 64, 96]}),
    "M2 Ultra": ({60: 800, 76: 800}, {60: [64, 128, 192], 76: [64, 128, 192]}),
    "M3": ({8: 100, 10: 100}, {8: [8, 16, 24], 10: [8, 16, 24]}),
    "M3 Pro": ({14: 150, 18: 150}, {14: [18, 36], 18: [18, 36]}),
    "M3 Max": ({30: 300, 40: 400}, {30: [36, 96], 40: [48, 64, 128]}),
    "M3 Ultra": ({60: 819, 80: 819}, {60: [96, 256], 80: [96, 256, 512]}),
    "M4": ({8: 120, 10: 120}, {8: [16, 24, 32], 10: [16, 24, 32]}),
    "M4 Pro": ({16: 273, 20: 273}, {16: [24, 48, 64], 20: [24, 48, 64]}),
    "M4 Max": ({32: 410, 40: 546}, {32: [36], 40: [48, 64, 128]}),
    "M5": ({10: 153}, {10: [16, 24, 32]}),
    "M5 Pro": ({16: 307, 20: 307}, {16: [24, 48], 20: [24, 48, 64]}),
    "M5 Max": ({32: 460, 40: 614}, {32: [36], 40: [48, 64, 128]}),
}


@pytest.mark.parametrize("chip", sorted(CHIPS))
def test_every_chip_and_gpu_bin_has_apples_bandwidth_and_memory(chip):
    bandwidths, memories = CHIPS[chip]
    entries = [e for e in load_catalog() if e.chip == chip]
    assert {e.gpu_cores for e in entries} == set(bandwidths), f"{chip}: GPU bins"
    for e in entries:
        assert e.bandwidth_gbs == bandwidths[e.gpu_cores], e.id
        assert set(e.memory_gb) <= set(memories[e.gpu_cores]), e.id
    union = {cores: sorted({m for e in entries if e.gpu_cores == cores for m in e.memory_gb}) for cores in bandwidths}
    assert union == {cores: sorted(m) for cores, m in memories.items()}, f"{chip}: memory options"


def test_known_errors_are_fixed():
    macs = by_id(load_catalog())
    assert macs["mbp-2026-m5max-32c"].memory_gb == [36], "the 32-core M5 Max ships with 36 GB only"
    assert macs["mbp-2026-m5max-40c"].memory_gb == [48, 64, 128]
    assert 512 not in macs["studio-2025-m3ultra-60c"].memory_gb, "512 GB needs the 80-core M3 Ultra"
    assert macs["studio-2025-m4max-32c"].memory_gb == [36]
    assert 96 not in macs["studio-2023-m2max-30c"].memory_gb, "96 GB needs the 38-core M2 Max"


def test_every_entry_has_a_source_a_status_and_one_gpu_bin():
    entries = load_catalog()
    assert len({e.id for e in entries}) == len(entries)
    for e in entries:
        assert e.source and e.status in ("current", "discontinued") and e.gpu_cores, e.id
        assert e.gpu_tflops and e.gpu_tflops > 1, e.id
    current = {e.id for e in entries if e.status == "current"}
    assert {"mini-2024-m4", "studio-2025-m3ultra-80c", "studio-2025-m4max-40c", "mbp14-2025-m5",
            "mbp-2026-m5max-40c"} <= current
    assert not current & {"studio-2022-m1ultra-64c", "mbp-2024-m4max-40c", "mbp14-2024-m4"}


@pytest.mark.parametrize("mac_id, memory, price", [
    ("mini-2024-m4", 16, 599), ("mini-2024-m4pro-16c", 24, 1399), ("studio-2025-m4max-32c", 36, 1999),
    ("studio-2025-m3ultra-60c", 96, 3999), ("studio-2022-m1max-24c", 32, 1999), ("studio-2022-m1ultra-48c", 64, 3999),
    ("studio-2023-m2ultra-60c", 64, 3999), ("macpro-2023-m2ultra-60c", 64, 6999), ("mbp14-2025-m5", 16, 1599),
    ("mbp-2026-m5max-32c", 36, 3599), ("mba-2020-m1-7c", 8, 999),
])
def test_launch_prices(mac_id, memory, price):
    assert by_id(load_catalog())[mac_id].prices_usd[memory] == price


def test_uncertain_values_are_flagged():
    macs = by_id(load_catalog())
    assert "memory_gb" in macs["mbp-2023-m3max-30c"].uncertain  # 96 GB unconfirmed
    assert "prices_usd" in macs["studio-2025-m4max-40c"].uncertain  # ~2,499 approx.
    assert "memory_gb" in macs["studio-2025-m3ultra-80c"].uncertain  # 512 GB reportedly pulled
    assert not macs["studio-2022-m1max-24c"].uncertain


def test_gpu_peak_follows_cores_and_generation():
    assert fp16_tflops("M1", 8) == pytest.approx(2.62, abs=0.01)  # 8 x 128 x 2 x 1.278 GHz
    assert fp16_tflops("M2 Ultra", 76) == pytest.approx(27.2, abs=0.1)
    assert fp16_tflops("M4 Max", 40) > fp16_tflops("M4 Max", 32)
    # M5's neural accelerators: 4x the M4's matmul peak at equal cores (Apple, October 2025)
    assert fp16_tflops("M5", 10) == pytest.approx(4 * fp16_tflops("M4", 10))
    assert fp16_tflops("M9 Hyper", 10) is None and fp16_tflops("M4", None) is None


def test_options_expand_memory_sizes_with_their_prices():
    opts = {o.label: o for o in options(load_catalog())}
    assert opts["Mac mini (2024) M4 10-core GPU 16 GB"].price_usd == 599
    assert opts["Mac mini (2024) M4 10-core GPU 24 GB"].price_usd is None
    assert opts["Mac mini (2024) M4 10-core GPU 16 GB"].short_label == "M4 10c mini'24 16"


@pytest.mark.parametrize("query, expected", [
    ("m4 max 64", {"M4 Max 40c MBP14/16'24 64", "M4 Max 40c Studio'25 64"}),
    ("M4 MAX 64GB", {"M4 Max 40c MBP14/16'24 64", "M4 Max 40c Studio'25 64"}),
    ("studio m3 ultra 512", {"M3 Ultra 80c Studio'25 512"}),
    ("m5 max 36", {"M5 Max 32c MBP14/16'26 36"}),
    ("m3 max 30c", {"M3 Max 30c MBP14/16'23 36", "M3 Max 30c MBP14/16'23 96"}),
    ("mini-2024-m4", {"M4 10c mini'24 16", "M4 10c mini'24 24", "M4 10c mini'24 32"}),
    ("current 128", {"M4 Max 40c Studio'25 128", "M5 Max 40c MBP14/16'26 128"}),
])
def test_loose_mac_matching(query, expected):
    assert {o.short_label for o in select_options(options(load_catalog()), query)} == expected


def test_a_chip_in_the_query_is_that_chip():
    found = select_options(options(load_catalog()), "m4 pro")
    assert found and all(o.entry.chip == "M4 Pro" for o in found), "not the M4 MacBook Pro"
    whole = {o.entry.chip for o in select_options(options(load_catalog()), "m4")}
    assert whole == {"M4", "M4 Pro", "M4 Max"}


@pytest.mark.parametrize("query", ["M7 Hyper", "m4 max 1024", "studio 2019", ""])
def test_a_query_matching_nothing_is_one_line_with_the_ids(query):
    with pytest.raises(UserError) as err:
        select_options(options(load_catalog()), query)
    assert "\n" not in str(err.value) and "mini-2024-m4" in str(err.value)


def test_select_keeps_entries_with_a_matching_option():
    assert {e.id for e in select(load_catalog(), "M3 Ultra")} == {"studio-2025-m3ultra-60c", "studio-2025-m3ultra-80c"}


def test_find_bin_tells_max_bins_apart_by_memory():
    entries = load_catalog()
    assert find_bin(entries, "Apple M4 Max", memory_gb=36).bandwidth_gbs == 410
    assert find_bin(entries, "M4 Max", memory_gb=64).bandwidth_gbs == 546
    assert find_bin(entries, "M3 Max", gpu_cores=30).bandwidth_gbs == 300
    assert find_bin(entries, "M9") is None


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
    assert len(macs) == len(load_catalog()) + 1


def test_override_can_replace_the_catalog_and_comes_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "only.yaml"
    path.write_text(yaml.safe_dump({"replace": True, "macs": [
        {"id": "one", "machine": "Mac", "chip": "M4", "memory_gb": [16]}]}))
    monkeypatch.setenv(ENV_VAR, str(path))
    assert [e.id for e in load_catalog()] == ["one"]


@pytest.mark.parametrize("content, words", [
    ({"macs": [{"id": "new-one", "machine": "Mac"}]}, ["new-one", "chip", "required"]),
    ({"macs": [{"id": "mini-2024-m4", "bandwidth": 1}]}, ["mini-2024-m4", "bandwidth", "not permitted"]),
    ({"macs": [{"id": "mini-2024-m4", "status": "maybe"}]}, ["mini-2024-m4", "status"]),
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


def test_this_mac_takes_mlx_limit_and_bandwidth_of_its_chip_and_size():
    entries = load_catalog()
    mine = this_mac(entries, chip_brand="Apple M4 Max", total_bytes=36 * GIB, working_set_bytes=int(27.5 * GIB))
    assert mine.bandwidth_gbs == 410 and mine.gpu_cores == 32, "36 GB means the 32-core GPU part"
    assert mine.wired_limit_gb == {36: 27.5}
    assert options([mine])[0].measured_wired_limit_gb == 27.5
    unknown = this_mac(entries, chip_brand="Apple M9", total_bytes=16 * GIB, working_set_bytes=None)
    assert unknown.bandwidth_gbs is None and "bandwidth_gbs" in unknown.uncertain and unknown.wired_limit_gb == {}


@pytest.mark.platform_skip
@pytest.mark.skipif(sys.platform == "darwin", reason="off a Mac there is no 'this Mac' entry")
def test_no_this_mac_entry_off_a_mac():
    assert this_mac(load_catalog()) is None

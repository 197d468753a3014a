"""The catalog of Apple Silicon Macs that sizing runs against, as data (orchestrator/sizing/macs.yaml).

A user's own file (`--catalog FILE`, or the SILICONBENCH_MACS environment variable) merges over the
shipped one: an entry whose `id` exists replaces the fields it names, a new id adds a machine, and
`replace: true` at the top drops the shipped entries. On a Mac the machine itself joins the catalog as
`this-mac`, with the GPU working-set limit MLX reports instead of a rule of thumb.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import UserError
from orchestrator.metrics.machine import sysctl, mlx_working_set_bytes
from orchestrator.sizing.chips import fp16_tflops, split_chip
from orchestrator.units import GIB

CATALOG_PATH = Path(__file__).resolve().parent / "macs.yaml"
ENV_VAR = "SILICONBENCH_MACS"
THIS_MAC_ID = "this-mac"
SHORT_MACHINES = (("MacBook Pro ", "MBP"), ("MacBook Pro", "MBP"), ("MacBook Air ", "Air"),
                  ("MacBook Air", "Air"), ("Mac Studio", "Studio"), ("Mac mini", "mini"),
                  ("Mac Pro", "MacPro"), ("iMac 24", "iMac"), ("this Mac", "this Mac"))


class MacEntry(BaseModel):
    """One Mac line: a machine, its chip, and the memory options it was sold with."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """Short unique name; `--mac` accepts it."""
    machine: str
    year: int | None = None
    chip: str
    cpu_cores: list[int] = Field(default_factory=list)
    gpu_cores: int | None = Field(None, ge=1)
    """The GPU-core bin of this entry: bins of one chip differ in speed (and sometimes bandwidth)."""
    memory_gb: list[float] = Field(min_length=1)
    """Unified memory options as Apple counts them (1 GB = 2^30 bytes)."""
    bandwidth_gbs: float | None = Field(None, gt=0)
    """Peak memory bandwidth, 10^9 bytes a second."""
    fp16_tflops: float | None = Field(None, gt=0)
    """GPU FP16 matmul peak; None: computed from the chip and GPU cores (chips.py)."""
    prices_usd: dict[float, float] = Field(default_factory=dict)
    """US launch price by memory option, where a source tied one to it."""
    status: Literal["current", "discontinued"] | None = None
    """Sold new today, or not; None when unknown (a user's own entry)."""
    wired_limit_gb: dict[float, float] = Field(default_factory=dict)
    """Measured default GPU working-set limit by memory option (GiB)."""
    source: str = ""
    uncertain: dict[str, str] = Field(default_factory=dict)
    """Field name -> why its value is uncertain."""

    @property
    def label(self) -> str:
        year = f" ({self.year})" if self.year else ""
        cores = f" {self.gpu_cores}-core GPU" if self.gpu_cores else ""
        return f"{self.machine}{year} {self.chip}{cores}"

    @property
    def short_label(self) -> str:
        """'M4 Max 40c Studio'25': chip first, for 80-column tables."""
        machine = self.machine
        for long, short in SHORT_MACHINES:
            machine = machine.replace(long, short)
        cores = f" {self.gpu_cores}c" if self.gpu_cores else ""
        year = f"'{self.year % 100:02d}" if self.year else ""
        return f"{self.chip}{cores} {machine}{year}"

    @property
    def gpu_tflops(self) -> float | None:
        return self.fp16_tflops or fp16_tflops(self.chip, self.gpu_cores)


@dataclass(frozen=True)
class MacOption:
    """One buyable configuration: a catalog entry at one memory size."""

    entry: MacEntry
    memory_gb: float

    @property
    def label(self) -> str:
        return f"{self.entry.label} {self.memory_gb:g} GB"

    @property
    def short_label(self) -> str:
        return f"{self.entry.short_label} {self.memory_gb:g}"

    @property
    def price_usd(self) -> float | None:
        return self.entry.prices_usd.get(self.memory_gb)

    @property
    def measured_wired_limit_gb(self) -> float | None:
        return self.entry.wired_limit_gb.get(self.memory_gb)


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise UserError(f"{path}: cannot read the Mac catalog ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("macs"), list):
        raise UserError(f"{path}: expected a top-level `macs:` list of entries (see {CATALOG_PATH})")
    return data


def _validate(raw: dict, path: Path) -> MacEntry:
    try:
        return MacEntry.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: Mac '{raw.get('id', '?')}': {key}: {first['msg']}") from None


def load_catalog(override: str | Path | None = None) -> list[MacEntry]:
    """The shipped catalog with `override` (or $SILICONBENCH_MACS) merged over it, by id."""
    entries = {raw["id"]: raw for raw in _read(CATALOG_PATH)["macs"]}
    override = override or os.environ.get(ENV_VAR) or None
    if override:
        path = Path(override).expanduser()
        data = _read(path)
        if data.get("replace"):
            entries = {}
        for raw in data["macs"]:
            if not isinstance(raw, dict) or "id" not in raw:
                raise UserError(f"{path}: every Mac entry needs an `id` (an existing one to change it)")
            entries[raw["id"]] = {**entries.get(raw["id"], {}), **raw}
        return [_validate(raw, path) for raw in entries.values()]
    return [_validate(raw, CATALOG_PATH) for raw in entries.values()]


def options(entries: list[MacEntry]) -> list[MacOption]:
    return [MacOption(e, m) for e in entries for m in e.memory_gb]


def _chip_words(query: str) -> tuple[tuple[str, str] | None, str]:
    """Pull a chip name out of a query: 'm4 max 64' -> (('M4', 'Max'), '64')."""
    match = re.search(r"\bm(\d+)(?:\s*(pro|max|ultra)\b)?", query)
    if not match:
        return None, query
    chip = (f"M{match[1]}", (match[2] or "").capitalize())
    return chip, (query[:match.start()] + " " + query[match.end():]).strip()


def _word_matches(word: str, option: MacOption, memories: set[float]) -> bool:
    entry = option.entry
    number = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(gb|g|c|core|cores|-core)?", word)
    if number:
        value, unit = float(number[1]), number[2] or ""
        if unit in ("gb", "g") or (not unit and value in memories):
            return value == option.memory_gb  # a bare number that is a memory size means memory
        if unit.endswith(("c", "core", "cores")):
            return value == entry.gpu_cores
        return value in (entry.gpu_cores, entry.year)
    haystack = f"{entry.id} {entry.label} {entry.short_label} {entry.status or ''}".lower()
    return word in haystack


def select_options(opts: list[MacOption], query: str) -> list[MacOption]:
    """Options matching a loose `--mac`: an id, or words like "m4 max 64", "studio 2025", "m3 ultra 80c".

    An id may come with more words ("mini-2024-m4 16"). A chip in the query must be that chip ("m4 pro"
    is the M4 Pro chip, not an M4 MacBook Pro; "m4" alone is the whole M4 generation); every other word
    must match the machine, its year, a memory size ("64", "64gb"; a bare number is memory when some
    Mac has that size), GPU cores ("40c") or its status ("current").
    """
    text = re.sub(r"\s+", " ", query.strip().lower())
    words = [w for w in re.split(r"[\s,]+", text) if w]
    ids = {o.entry.id for o in opts}
    named = [w for w in words if w in ids]
    candidates = [o for o in opts if o.entry.id in named] if named else opts
    rest = " ".join(w for w in words if w not in named)
    chip, rest = _chip_words(rest) if not named else (None, rest)
    words = [w for w in re.split(r"[\s,]+", rest) if w]
    memories = {o.memory_gb for o in candidates}
    found = []
    for option in candidates:
        if chip is not None:
            generation, tier = split_chip(option.entry.chip)
            if generation != chip[0] or (chip[1] and tier != chip[1]):
                continue
        if all(_word_matches(w, option, memories) for w in words):
            found.append(option)
    if not found or not text:
        listed = ", ".join(dict.fromkeys(o.entry.id for o in opts))
        raise UserError(f"--mac '{query}' matches no Mac; give a chip and more words (e.g. 'm4 max 64', "
                        f"'studio m3 ultra', 'current 128') or an id: {listed}")
    return found


def select(entries: list[MacEntry], name: str) -> list[MacEntry]:
    """Entries with at least one option matching `name` (see select_options)."""
    chosen = {o.entry.id for o in select_options(options(entries), name)}
    return [e for e in entries if e.id in chosen]


def find_bin(entries: list[MacEntry], chip: str, gpu_cores: int | None = None,
             memory_gb: float | None = None) -> MacEntry | None:
    """The catalog entry of a chip (and GPU bin, and memory size where known), for measured figures.

    Without the GPU bin, the lowest bin sold with that memory size stands for it (the bins of one
    chip share their bandwidth, except M3 Max, M4 Max and M5 Max, whose memory sizes tell them apart).
    """
    generation, tier = split_chip(chip)
    same = [e for e in entries if split_chip(e.chip) == (generation, tier) and e.bandwidth_gbs]
    if gpu_cores:
        same = [e for e in same if e.gpu_cores == gpu_cores] or same
    if memory_gb:
        same = [e for e in same if memory_gb in e.memory_gb] or same
    return min(same, key=lambda e: (e.gpu_cores or 0, e.bandwidth_gbs or 0), default=None)


def this_mac(entries: list[MacEntry], chip_brand: str | None = None, total_bytes: int | None = None,
             working_set_bytes: int | None = None) -> MacEntry | None:
    """The machine this runs on as a catalog entry, or None off a Mac.

    Bandwidth and GPU bin come from the catalog line with the same chip and memory size (the chip
    name alone cannot tell an M4 Max 32-core from a 40-core); the usable limit is MLX's own figure.
    """
    if chip_brand is None:
        if platform.system() != "Darwin":
            return None
        chip_brand = sysctl("machdep.cpu.brand_string") or ""
    if total_bytes is None:
        import psutil

        total_bytes = psutil.virtual_memory().total
    if working_set_bytes is None:
        working_set_bytes = mlx_working_set_bytes()
    memory_gb = float(round(total_bytes / GIB))
    chip = chip_brand.removeprefix("Apple ").strip() or "unknown chip"
    same_chip = [e for e in entries if e.chip.lower() == chip.lower()]
    same_size = [e for e in same_chip if memory_gb in e.memory_gb] or same_chip
    bandwidths = sorted({e.bandwidth_gbs for e in same_size if e.bandwidth_gbs})
    known = find_bin(same_size, chip, memory_gb=memory_gb) if same_size else None
    uncertain = {}
    if len(bandwidths) > 1:
        uncertain["bandwidth_gbs"] = f"chip sold with {', '.join(f'{b:g}' for b in bandwidths)} GB/s; lowest taken"
    if not bandwidths:
        uncertain["bandwidth_gbs"] = f"'{chip}' is not in the catalog"
    if len({e.gpu_cores for e in same_size}) > 1:
        uncertain["gpu_cores"] = "GPU bin not read from the machine; the lowest sold with this memory taken"
    limits = {memory_gb: round(working_set_bytes / GIB, 2)} if working_set_bytes else {}
    return MacEntry(id=THIS_MAC_ID, machine="this Mac", chip=chip, memory_gb=[memory_gb],
                    gpu_cores=known.gpu_cores if known else None,
                    bandwidth_gbs=bandwidths[0] if bandwidths else None, wired_limit_gb=limits,
                    source="this machine (sysctl, MLX)", uncertain=uncertain)

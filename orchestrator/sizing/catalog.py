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

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import UserError
from orchestrator.metrics.machine import sysctl, mlx_working_set_bytes

CATALOG_PATH = Path(__file__).resolve().parent / "macs.yaml"
ENV_VAR = "SILICONBENCH_MACS"
GIB = 2**30
THIS_MAC_ID = "this-mac"


class MacEntry(BaseModel):
    """One Mac line: a machine, its chip, and the memory options it was sold with."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """Short unique name; `--mac` accepts it."""
    machine: str
    year: int | None = None
    chip: str
    cpu_cores: list[int] = Field(default_factory=list)
    gpu_cores: list[int] = Field(default_factory=list)
    memory_gb: list[float] = Field(min_length=1)
    """Unified memory options as Apple counts them (1 GB = 2^30 bytes)."""
    bandwidth_gbs: float | None = Field(None, gt=0)
    """Peak memory bandwidth, 10^9 bytes a second."""
    prices_usd: dict[float, float] = Field(default_factory=dict)
    """US launch price by memory option, where a source tied one to it."""
    wired_limit_gb: dict[float, float] = Field(default_factory=dict)
    """Measured default GPU working-set limit by memory option (GiB)."""
    source: str = ""
    uncertain: dict[str, str] = Field(default_factory=dict)
    """Field name -> why its value is uncertain."""

    @property
    def label(self) -> str:
        year = f" ({self.year})" if self.year else ""
        cores = f" {self.gpu_cores[0]}-core GPU" if len(self.gpu_cores) == 1 else ""
        return f"{self.machine}{year} {self.chip}{cores}"


@dataclass(frozen=True)
class MacOption:
    """One buyable configuration: a catalog entry at one memory size."""

    entry: MacEntry
    memory_gb: float

    @property
    def label(self) -> str:
        return f"{self.entry.label} {self.memory_gb:g} GB"

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


def select(entries: list[MacEntry], name: str) -> list[MacEntry]:
    """Entries whose id is `name`, or whose "machine (year) chip" contains it (case-insensitive)."""
    exact = [e for e in entries if e.id == name]
    if exact:
        return exact
    needle = re.sub(r"\s+", " ", name.strip().lower())
    found = [e for e in entries if needle and (needle in e.label.lower() or needle in e.id)]
    if not found:
        raise UserError(f"--mac '{name}' matches no Mac; use an id or part of a name: "
                        + ", ".join(e.id for e in entries))
    return found


def this_mac(entries: list[MacEntry], chip_brand: str | None = None, total_bytes: int | None = None,
             working_set_bytes: int | None = None) -> MacEntry | None:
    """The machine this runs on as a catalog entry, or None off a Mac.

    Bandwidth comes from the catalog line with the same chip and memory size (the chip name alone
    cannot tell an M4 Max 32-core from a 40-core); the usable limit is MLX's own figure.
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
    uncertain = {}
    if len(bandwidths) > 1:
        uncertain["bandwidth_gbs"] = f"chip sold with {', '.join(f'{b:g}' for b in bandwidths)} GB/s; lowest taken"
    if not bandwidths:
        uncertain["bandwidth_gbs"] = f"'{chip}' is not in the catalog"
    limits = {memory_gb: round(working_set_bytes / GIB, 2)} if working_set_bytes else {}
    return MacEntry(id=THIS_MAC_ID, machine="this Mac", chip=chip, memory_gb=[memory_gb],
                    bandwidth_gbs=bandwidths[0] if bandwidths else None, wired_limit_gb=limits,
                    source="this machine (sysctl, MLX)", uncertain=uncertain)

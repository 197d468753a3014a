"""The report's sections in reading order: what every format (terminal, markdown, HTML) shows."""

from __future__ import annotations

from typing import Any

from orchestrator.report.sections import (Section, failure_tables, harness_tables, infra_table, performance_tables,
                                          reliability_tables, score_table)
from orchestrator.report.harness_gap import harness_compare_report_section
from orchestrator.report.sections_thinking import finish_table, thinking_section


def build_sections(report: dict[str, Any]) -> list[Section]:
    """Every section in reading order; a section with nothing to show is left out."""
    sections = []
    for mode in report["modes"]:
        intro = ("Passes out of scored runs; runs lost to infra_error are noted and not counted."
                 + (" Article columns: its published raw results." if report["seed"] and mode == "raw" else ""))
        sections.append(Section(f"Score ({mode})", intro, [score_table(report, mode)]))
    if report["modes"]:
        sections.append(Section("Reliability", "pass@1 with a Wilson 95% interval; pass^k as tau-bench defines "
                                "it: per task C(c,k)/C(n,k), the chance that k of the n runs all pass, "
                                "averaged over tasks with at least k runs.",
                                [t for mode in report["modes"] for t in reliability_tables(report, mode)]))
        tables = [t for mode in report["modes"] for t in failure_tables(report, mode) + [finish_table(report, mode)]
                  if t is not None]
        infra = infra_table(report)
        sections.append(Section("Failures", "One primary reason per failed run; how each turn ended (finish reason `length`: cut by the token cap).", tables + ([infra] if infra else [])))
    sections.append(Section("Performance", "Speed from warm turns; figures measured while several runs shared "
                            "the server are marked concurrent. Peak RSS: the server's process tree; peak GPU: "
                            "device memory in use (vLLM's includes its up-front reservation). Score per GiB "
                            "uses the larger of the two.",
                            performance_tables(report), ["score_vs_decode", "score_vs_memory", "memory_over_turns"]))
    sections.append(thinking_section(report))
    harness = harness_tables(report)
    if harness:
        sections.append(Section("Raw vs harness", "The same model in one raw attempt and inside the feedback "
                                "harness: the gap, and what the harness costs per run.", harness))
    real = harness_compare_report_section(report)
    if real:
        sections.append(real)
    return sections

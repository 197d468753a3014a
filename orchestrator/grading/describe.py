"""What the grader checks for a task, in plain words, built from the same fields the grader reads
(so `siliconbench tasks show` cannot drift from what is judged)."""

from __future__ import annotations

from orchestrator.taskdef import Task


def checks_in_words(task: Task) -> list[str]:
    c, out = task.checks, []
    if c.must_write:
        out.append("The run must write a change (write_file).")
    for path in c.must_read:
        out.append(f"Some tool output must have carried the content of {path} (read_file, cat, grep or "
                   "search_code all count; the path as typed does not matter).")
    if c.must_search:
        out.append("The run must search the code (search_code, or grep through run_command).")
    if c.answer:
        said = "; ".join(f"{q.name} = {q.value:g}{' s' if q.dimension == 'duration' else ''}" for q in c.answer)
        out.append(f"The final answer must state {said}. Each number is read with its unit or number word and "
                   "tied to the nearest quantity it describes; equivalent units count (45 s = 45000 ms), and "
                   "any other value stated for one of these quantities fails.")
    if c.allowed_changes is not None:
        where = ", ".join(c.allowed_changes) or "no source file"
        out.append(f"Only these files may change: {where}. New test files and new test functions are always "
                   "allowed; editing, deleting or weakening an existing test (skip marks, hooks) is collateral damage.")
    if c.visible_tests:
        out.append(f"`{c.visible_tests}` must still pass on the final workspace.")
    if c.hidden_tests:
        out.append("The hidden tests (never shown to the model) must pass on a copy of the final workspace, each "
                   "judged by its own id; what they check is listed under 'passes when'.")
    if c.tests_after_last_write:
        out.append("A test command must run after the last successful write.")
    return out

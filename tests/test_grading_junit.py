"""Each test judged from a JUnit XML (grading/junit_verdict.py): the tests the grader expects are read
from the trusted files, and a test that errored, failed, was skipped or never ran fails the check, as
does a report that is missing, too large, malformed, carries a DOCTYPE, or whose control test passed."""

from pathlib import Path

import pytest

from orchestrator.grading import junit_verdict
from orchestrator.grading.junit_verdict import expected_tests, judge, read_report

CANARY = "_grader_ab.test_cd::test_cd"
CANARY_FAILED = '<testcase classname="_grader_ab.test_cd" name="test_cd"><failure message="x"/></testcase>'


def xml(*cases: str) -> str:
    return f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{"".join(cases)}</testsuite></testsuites>'


def case(classname: str, name: str, child: str = "") -> str:
    return f'<testcase classname="{classname}" name="{name}">{child}</testcase>'


def report(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "report.xml"
    path.write_text(text)
    return path


# ---- the expected tests, read from the trusted files ----

TRUSTED = '''import pytest


def helper():
    pass


def test_plain():
    pass


async def test_async():
    pass


@pytest.mark.parametrize("x", [1, 2, 3])
def test_list(x):
    pass


@pytest.mark.parametrize("x", (1, 2))
@pytest.mark.parametrize("y", [1, 2, 3])
def test_stacked(x, y):
    pass


@pytest.mark.parametrize(argnames="x", argvalues=[1, 2, 3, 4])
def test_keyword(x):
    pass


@pytest.mark.parametrize("x", range(3))
def test_computed(x):
    pass


@pytest.mark.parametrize("x", [1, 2])
@pytest.mark.parametrize("y", CASES)
def test_computed_after_literal(x, y):
    pass


@pytest.mark.skipif(False, reason="no")
@pytest.mark.slow
@decorate
def test_other_marks():
    pass


@pytest.mark.slow
@pytest.mark.parametrize("x", [1, 2])
def test_mark_then_parametrize(x):
    pass


@pytest.mark.parametrize("x")
def test_without_values(x):
    pass


class TestPlain:
    def test_m(self):
        pass

    async def test_am(self):
        pass

    def helper(self):
        pass

    x = 1


@pytest.mark.parametrize("x", [1, 2])
class TestParam:
    def test_m(self, x):
        pass

    @pytest.mark.parametrize("y", [1, 2, 3])
    def test_both(self, x, y):
        pass

    @pytest.mark.parametrize("y", CASES)
    def test_computed(self, x, y):
        pass


@pytest.mark.parametrize("x", CASES)
class TestComputed:
    def test_m(self, x):
        pass


class Helper:
    def test_not_collected(self):
        pass


x = 1
'''


def test_expected_tests_are_keyed_as_junit_names_them_with_their_case_counts(tmp_path):
    (tmp_path / "pkg" / "tests").mkdir(parents=True)
    path = tmp_path / "pkg" / "tests" / "test_mod.py"
    path.write_text(TRUSTED)
    m = "pkg.tests.test_mod"
    assert expected_tests(path, tmp_path) == {
        f"{m}::test_plain": 1, f"{m}::test_async": 1, f"{m}::test_list": 3, f"{m}::test_stacked": 6,
        f"{m}::test_keyword": 4, f"{m}::test_computed": None, f"{m}::test_computed_after_literal": None,
        f"{m}::test_other_marks": 1, f"{m}::test_mark_then_parametrize": 2, f"{m}::test_without_values": None,
        f"{m}.TestPlain::test_m": 1, f"{m}.TestPlain::test_am": 1,
        f"{m}.TestParam::test_m": 2, f"{m}.TestParam::test_both": 6, f"{m}.TestParam::test_computed": None,
        f"{m}.TestComputed::test_m": None,
    }


def test_a_top_level_file_is_keyed_by_its_bare_module_name(tmp_path):
    path = tmp_path / "test_top.py"
    path.write_text("def test_a():\n    pass\n")
    assert expected_tests(path, tmp_path) == {"test_top::test_a": 1}


def test_a_trusted_file_in_utf8_is_read_whatever_the_locale(tmp_path):
    path = tmp_path / "test_u.py"
    path.write_bytes("def test_caf\u00e9():\n    assert '\u00e9'\n".encode())
    assert expected_tests(path, tmp_path) == {"test_u::test_caf\u00e9": 1}


# ---- reading the report ----

def test_each_case_gets_its_outcome_error_before_failure_before_skip(tmp_path):
    text = xml(case("m", "test_p"), case("m", "test_f", '<failure message="no"/>'),
               case("m", "test_e", '<error message="boom"/>'), case("m", "test_s", '<skipped message="s"/>'),
               case("m", "test_fe", '<failure/><error/>'), case("m", "test_sf", '<skipped/><failure/>'),
               case("m", "test_out", "<system-out>hi</system-out>"))
    assert read_report(report(tmp_path, text)) == {
        "m::test_p": "passed", "m::test_f": "failed", "m::test_e": "error", "m::test_s": "skipped",
        "m::test_fe": "error", "m::test_sf": "failed", "m::test_out": "passed"}


@pytest.mark.parametrize("entries, outcome", [
    (["<error/>", ""], "error"),            # a setup error, then the call passes: two entries
    (["", "<failure/>"], "failed"),         # the call passes, the teardown fails
    (["<failure/>", "<error/>"], "failed"),  # the first bad outcome stays
    (["", ""], "passed"),
])
def test_a_test_reported_twice_keeps_its_first_bad_outcome(tmp_path, entries, outcome):
    text = xml(*(case("m", "test_x", child) for child in entries))
    assert read_report(report(tmp_path, text)) == {"m::test_x": outcome}


def test_a_case_without_names_is_keyed_by_empty_names(tmp_path):
    assert read_report(report(tmp_path, xml("<testcase/>"))) == {"::": "passed"}


def test_a_missing_report_is_not_trusted(tmp_path):
    assert read_report(tmp_path / "none.xml") == "no test report (the run died, or never reached its end)"


def test_a_report_that_is_a_link_is_not_followed(tmp_path):
    real = report(tmp_path, xml(case("m", "test_p")))
    link = tmp_path / "link.xml"
    link.symlink_to(real)
    assert read_report(link) == "no test report (the run died, or never reached its end)"


def test_a_report_that_is_a_folder_is_no_report(tmp_path):
    (tmp_path / "dir.xml").mkdir()
    assert read_report(tmp_path / "dir.xml") == "no test report (the run died, or never reached its end)"


def test_a_report_over_the_size_bound_is_not_read_one_at_the_bound_is(tmp_path, monkeypatch):
    text = xml(case("m", "test_p"))
    path = report(tmp_path, text)
    monkeypatch.setattr(junit_verdict, "MAX_REPORT_BYTES", len(text))
    assert read_report(path) == {"m::test_p": "passed"}
    monkeypatch.setattr(junit_verdict, "MAX_REPORT_BYTES", len(text) - 1)
    assert read_report(path) == "test report too large"


def test_the_size_bound_is_eight_megabytes():
    assert junit_verdict.MAX_REPORT_BYTES == 8 * 2**20


def test_an_unreadable_report_says_why(tmp_path, monkeypatch):
    path = report(tmp_path, xml(case("m", "test_p")))

    def refuse(self):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert read_report(path) == "test report unreadable (Permission denied)"


@pytest.mark.parametrize("text", [
    '<?xml version="1.0"?><!DOCTYPE testsuites><testsuites/>',
    '<?xml version="1.0"?><!ENTITY e "x"><testsuites/>',
])
def test_a_report_with_a_doctype_or_entity_is_not_parsed(tmp_path, text):
    assert read_report(report(tmp_path, text)) == "test report carries a DOCTYPE"


def test_a_malformed_report_says_so(tmp_path):
    result = read_report(report(tmp_path, "<testsuites><testcase"))
    assert isinstance(result, str) and result.startswith("test report malformed (")


# ---- the verdict ----

def test_every_expected_test_passing_with_the_control_failing_passes(tmp_path):
    path = report(tmp_path, xml(case("m", "test_a"), case("m", "test_b[1]"), case("m", "test_b[2]"), CANARY_FAILED))
    verdict = judge(path, {"m::test_a": 1, "m::test_b": 2}, "hidden tests", canary=CANARY)
    assert (verdict.passed, verdict.detail) == (True, "3 of 3 hidden tests passed")
    assert verdict.outcomes == {"m::test_a": "passed", "m::test_b[1]": "passed", "m::test_b[2]": "passed"}


def test_the_default_wording_is_tests(tmp_path):
    verdict = judge(report(tmp_path, xml(case("m", "test_a"))), {"m::test_a": 1})
    assert (verdict.passed, verdict.detail) == (True, "1 of 1 tests passed")


@pytest.mark.parametrize("control", ["", "<error/>", "<skipped/>", None])
def test_a_control_test_that_did_not_fail_means_a_tampered_report(tmp_path, control):
    cases = [case("m", "test_a")] + ([] if control is None else [case("_grader_ab.test_cd", "test_cd", control)])
    verdict = judge(report(tmp_path, xml(*cases)), {"m::test_a": 1}, canary=CANARY)
    assert (verdict.passed, verdict.detail) == (
        False, "the test report was tampered with (the grader's failing control test did not fail)")


def test_without_a_control_a_failing_extra_test_fails(tmp_path):
    verdict = judge(report(tmp_path, xml(case("m", "test_a"), CANARY_FAILED)), {"m::test_a": 1})
    assert (verdict.passed, verdict.detail) == (False, "1 of 2 tests did not pass: test_cd (failed)")


@pytest.mark.parametrize("child, outcome", [
    ('<failure message="no"/>', "failed"), ('<error message="no"/>', "error"), ('<skipped message="no"/>', "skipped")])
def test_a_test_that_did_not_pass_fails_the_check_and_is_named(tmp_path, child, outcome):
    path = report(tmp_path, xml(case("m", "test_a"), case("m.TestC", "test_b", child), CANARY_FAILED))
    verdict = judge(path, {"m::test_a": 1, "m.TestC::test_b": 1}, "hidden tests", canary=CANARY)
    assert (verdict.passed, verdict.detail) == (False, f"1 of 2 hidden tests did not pass: test_b ({outcome})")


def test_an_unexpected_test_that_fails_also_fails_the_check(tmp_path):
    path = report(tmp_path, xml(case("m", "test_a"), case("m", "test_extra", "<failure/>"), CANARY_FAILED))
    verdict = judge(path, {"m::test_a": 1}, canary=CANARY)
    assert (verdict.passed, verdict.detail) == (False, "1 of 2 tests did not pass: test_extra (failed)")


def test_expected_tests_that_never_ran_are_missing_with_their_counts(tmp_path):
    path = report(tmp_path, xml(case("m", "test_a"), case("m", "test_p[1]"), CANARY_FAILED))
    verdict = judge(path, {"m::test_a": 1, "m::test_p": 3, "m::test_gone": 1, "m::test_some": None},
                    "hidden tests", canary=CANARY)
    assert (verdict.passed, verdict.detail) == (
        False, "missing: test_p (1 of 3 cases ran), test_gone (0 of 1 cases ran), test_some (0 of some cases ran)")


def test_a_test_with_unknown_case_count_needs_one_case(tmp_path):
    path = report(tmp_path, xml(case("m", "test_some[x]"), CANARY_FAILED))
    verdict = judge(path, {"m::test_some": None}, canary=CANARY)
    assert (verdict.passed, verdict.detail) == (True, "1 of 1 tests passed")


def test_more_cases_than_expected_is_fine(tmp_path):
    path = report(tmp_path, xml(case("m", "test_p[1]"), case("m", "test_p[2]"), case("m", "test_p[3]")))
    assert judge(path, {"m::test_p": 2}).passed is True


def test_failures_and_missing_tests_are_both_told(tmp_path):
    path = report(tmp_path, xml(case("m", "test_a", "<failure/>"), CANARY_FAILED))
    verdict = judge(path, {"m::test_a": 1, "m::test_b": 1}, canary=CANARY)
    assert (verdict.passed, verdict.detail) == (
        False, "1 of 1 tests did not pass: test_a (failed); missing: test_b (0 of 1 cases ran)")


def test_a_report_with_no_test_fails(tmp_path):
    verdict = judge(report(tmp_path, xml(CANARY_FAILED)), {}, "hidden tests", canary=CANARY)
    assert (verdict.passed, verdict.detail) == (False, "no hidden tests ran")
    assert judge(report(tmp_path, xml()), {}).detail == "no tests ran"


def test_an_untrusted_report_fails_with_its_reason(tmp_path):
    verdict = judge(tmp_path / "absent.xml", {"m::test_a": 1}, canary=CANARY)
    assert (verdict.passed, verdict.detail, verdict.outcomes) == (
        False, "no test report (the run died, or never reached its end)", {})


def test_long_lists_show_eight_and_an_ellipsis(tmp_path):
    bad = [case("m", f"test_{i}", "<failure/>") for i in range(9)]
    verdict = judge(report(tmp_path, xml(*bad)), {f"m::test_x{i}": 1 for i in range(9)})
    shown_bad = ", ".join(f"test_{i} (failed)" for i in range(8))
    shown_missing = ", ".join(f"test_x{i} (0 of 1 cases ran)" for i in range(8))
    expected = f"9 of 9 tests did not pass: {shown_bad} ...; missing: {shown_missing} ..."
    assert verdict.detail == expected[:600]
    eight = judge(report(tmp_path, xml(*bad[:8])), {})
    assert eight.detail == f"8 of 8 tests did not pass: {shown_bad}"


def test_the_detail_is_cut_at_600_characters(tmp_path):
    bad = [case("m", "test_" + "x" * 100 + str(i), "<failure/>") for i in range(8)]
    verdict = judge(report(tmp_path, xml(*bad)), {})
    assert len(verdict.detail) == 600 and verdict.detail.startswith("8 of 8 tests did not pass: test_xxx")


def test_a_failing_verdict_keeps_every_outcome(tmp_path):
    path = report(tmp_path, xml(case("m", "test_a"), case("m", "test_b", "<failure/>"), CANARY_FAILED))
    verdict = judge(path, {"m::test_a": 1, "m::test_b": 1}, canary=CANARY)
    assert (verdict.passed, verdict.outcomes) == (False, {"m::test_a": "passed", "m::test_b": "failed"})


def test_case_ids_holding_brackets_and_colons_are_counted_and_named_whole(tmp_path):
    path = report(tmp_path, xml(case("m", "test_p[x[1]]"), case("m", "test_p[a::b]", "<failure/>"), CANARY_FAILED))
    verdict = judge(path, {"m::test_p": 2}, canary=CANARY)
    assert (verdict.passed, verdict.detail) == (False, "1 of 2 tests did not pass: test_p[a::b] (failed)")


def test_exactly_eight_missing_tests_have_no_ellipsis(tmp_path):
    verdict = judge(report(tmp_path, xml(case("m", "test_a"))), {"m::test_a": 1, **{f"m::test_x{i}": 1 for i in range(8)}})
    assert verdict.detail == "missing: " + ", ".join(f"test_x{i} (0 of 1 cases ran)" for i in range(8))

"""The regression set: no confident wrong answer on peers' test suites and hard cases (#11).

The set and the grading rules are in ``tests/geocode_regression.py``; the figures for
this geocoder and for cpca are in BENCHMARKS.md (``benchmarks/bench_geocode.py``).
"""

from __future__ import annotations

import pytest
from geocode_regression import Answer, grade, load_cases, needs_met, offline_answer

from locator.geocode import OfflineGeocoder

CASES = load_cases()


@pytest.fixture(scope="module")
def geo() -> OfflineGeocoder:
    return OfflineGeocoder()


class TestRegressionSet:
    def test_every_row_is_complete_and_cited(self) -> None:
        """Each case has an address, an expected answer, a failure class and a source
        (a peer's repository at a commit, the issue, or our own)."""
        assert len(CASES) >= 100
        for c in CASES:
            assert c.address and c.expected and c.failure_class, c
            assert c.source == "own" or c.source.startswith("issue #") or "@" in c.source, c
        assert len({c.address for c in CASES}) == len(CASES)

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.address[:24])
    def test_no_confident_wrong_answer(self, geo: OfflineGeocoder, case) -> None:
        """No answer is wrong: no other place, no stale division, no real duplicate
        resolved silently. Cases that need the current division table are asserted
        once it is in (until then they are expected to fail)."""
        if not needs_met(case.needs):
            pytest.xfail(f"needs {case.needs}")
        got = grade(case.expected, offline_answer(geo.geocode(case.address)))
        assert got != "wrong", f"{case.address}: expected {case.expected}"


class TestGrading:
    def test_grades(self) -> None:
        """The grading rules: a stale district is wrong, the city alone is less
        specific, a silently resolved duplicate is wrong."""
        hz = ("浙江省", "杭州市", "")
        assert grade("浙江省|杭州市|拱墅区", Answer(("浙江省", "杭州市", "下城区"))) == "wrong"
        assert grade("浙江省|杭州市|拱墅区", Answer(hz)) == "less specific"
        assert grade("浙江省|杭州市|拱墅区", Answer(None)) == "less specific"
        dup = "ambiguous:北京市|北京市|朝阳区;吉林省|长春市|朝阳区"
        bj, cc = ("北京市", "北京市", "朝阳区"), ("吉林省", "长春市", "朝阳区")
        assert grade(dup, Answer(bj)) == "wrong"
        assert grade(dup, Answer(bj, True, (bj, cc))) == "right"
        assert grade(dup, Answer(bj, True, (bj,))) == "ambiguous"
        assert grade("none", Answer(hz)) == "wrong"
        assert grade("none", Answer(None)) == "right"

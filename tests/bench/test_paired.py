"""The paired targets take the median of per-round ratios, not a ratio of medians."""

from __future__ import annotations

import pytest

from bench.paired import LonePair, PeakPair


def test_the_peak_ratio_is_the_median_of_the_rounds_ratios() -> None:
    peak = PeakPair("service", 64, 64, 3, 0, 0.0, 0.0, [180.0, 200.0, 90.0], [200.0, 200.0, 100.0])
    assert peak.ratio == pytest.approx(0.9)


def test_the_lone_ratio_is_the_median_of_the_rounds_ratios() -> None:
    lone = LonePair("service", 3, 40, 120, 0, 8.0, 11.0, [1.2, 1.5, 1.3])
    assert lone.ratio == pytest.approx(1.3)

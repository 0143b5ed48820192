"""The coursework's checks: tolerances at rounding level, the modelling variants allowed, error carried forward."""

from __future__ import annotations

import math

import pytest

from analysis.teach import checks

KEY = {
    "recall_rate": 0.0236594,
    "recall_rate_lower": 0.0229348,
    "recall_rate_upper": 0.0244063,
    "recall_first": 0.0498,
    "recall_first_n": 4800,
    "recall_subsequent": 0.0202,
    "recall_subsequent_n": 40000,
    "first_higher": True,
    "bf12_cluster_or_crude": 0.9548,
    "bf12_cluster_or_crude_lower": 0.80,
    "bf12_cluster_or_crude_upper": 1.14,
    "bf12_cluster_or_crude_independence": 0.9449,
    "bf12_cluster_or_crude_independence_lower": 0.79,
    "bf12_cluster_or_crude_independence_upper": 1.13,
    "bf12_cluster_or_crude_naive_lower": 0.87,
    "bf12_cluster_or_crude_naive_upper": 1.03,
}


def test_a_proportion_passes_rounded_to_three_decimals_and_fails_as_a_percentage():
    checks.check_proportion(KEY, "recall_rate", 0.0236594)
    checks.check_proportion(KEY, "recall_rate", 0.024)  # rounded
    for wrong in (2.37, 0.0225, True, None, "0.02", math.nan):
        with pytest.raises(AssertionError):
            checks.check_proportion(KEY, "recall_rate", wrong)


def test_an_interval_must_be_the_95_percent_one():
    checks.check_interval(KEY, "recall_rate", (0.0229348, 0.0244063))
    checks.check_interval(KEY, "recall_rate", (0.02294, 0.02440))
    half = (0.0244063 - 0.0229348) / 2
    with pytest.raises(AssertionError):  # a 90% interval: 1.645 / 1.96 of the half-width
        checks.check_interval(KEY, "recall_rate", (0.0236594 - 0.839 * half, 0.0236594 + 0.839 * half))


def test_an_odds_ratio_below_1_rounded_to_two_decimals_passes_either_gee():
    checks.check_odds_ratio(KEY, "bf12_cluster_or_crude", 0.95)  # exchangeable, rounded
    checks.check_odds_ratio(KEY, "bf12_cluster_or_crude", 0.9449)  # independence (= plain logistic)
    with pytest.raises(AssertionError):
        checks.check_odds_ratio(KEY, "bf12_cluster_or_crude", 0.93)
    with pytest.raises(AssertionError):
        checks.check_odds_ratio(KEY, "bf12_cluster_or_crude", -0.05)  # a coefficient, not an odds ratio


def test_a_clustered_interval_must_hold_the_estimate_and_not_be_the_naive_width():
    checks.check_clustered_interval(KEY, "bf12_cluster_or_crude", (0.80, 1.14), 0.9548)
    checks.check_clustered_interval(KEY, "bf12_cluster_or_crude", (0.79, 1.13), 0.9449)
    with pytest.raises(AssertionError, match="as narrow as one that treats every screen as independent"):
        checks.check_clustered_interval(KEY, "bf12_cluster_or_crude", (0.87, 1.03), 0.9449)
    with pytest.raises(AssertionError, match="does not contain"):  # the right width in the wrong place
        checks.check_clustered_interval(KEY, "bf12_cluster_or_crude", (8.0, 11.4), 0.9548)
    with pytest.raises(AssertionError, match="does not contain"):  # no estimate given: the key's
        checks.check_clustered_interval(KEY, "bf12_cluster_or_crude", (8.0, 11.4))


def test_a_direction_is_right_or_carried_forward_from_the_students_own_rates():
    checks.check_first_higher(KEY, True, 0.0498, 0.0202)
    checks.check_first_higher(KEY, False, 0.0210, 0.0202)  # a wrong first-round rate: the conclusion follows it
    with pytest.raises(AssertionError):
        checks.check_first_higher(KEY, False, 0.0498, 0.0202)
    with pytest.raises(AssertionError):
        checks.check_first_higher(KEY, "yes", 0.0498, 0.0202)


def test_a_value_the_export_could_not_estimate_is_left_for_marking_by_hand():
    key = dict(KEY, bf12_cluster_or_crude=None)
    with pytest.raises(AssertionError, match="could not be estimated from your data"):
        checks.check_odds_ratio(key, "bf12_cluster_or_crude", 0.95)

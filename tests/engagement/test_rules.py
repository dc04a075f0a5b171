"""The top sort's score (pure): a Wilson lower bound, views-free, that orders as likes do."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from service.engagement.rules import top_score, wilson_lower_bound


def test_wilson_lower_bound_matches_known_values():
    # 1 of 1 is far less sure than 100 of 100; 0 positives or no trials: nothing is sure.
    assert math.isclose(wilson_lower_bound(1, 1), 0.2065, abs_tol=1e-4)
    assert math.isclose(wilson_lower_bound(100, 100), 0.9630, abs_tol=1e-4)
    assert math.isclose(wilson_lower_bound(50, 100), 0.4038, abs_tol=1e-4)
    assert wilson_lower_bound(0, 10) == 0.0
    assert wilson_lower_bound(0, 0) == 0.0


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_wilson_lower_bound_is_a_share_below_the_observed_one(positive, extra):
    total = positive + extra
    bound = wilson_lower_bound(positive, total)
    assert 0.0 <= bound <= positive / total + 1e-12


@given(st.integers(0, 100_000), st.integers(0, 100_000))
def test_top_score_orders_comments_as_their_likes_do(a, b):
    # What lets the database sort by the stored count: the score never disagrees with it.
    if a < b:
        assert top_score(a) < top_score(b)
    elif a == b:
        assert top_score(a) == top_score(b)

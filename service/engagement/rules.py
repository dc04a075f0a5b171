"""Pure rules of engagement: the top sort's score and the limits of a counts request."""

from __future__ import annotations

import math

# Articles one counts request may name: an article list page shows about that many.
MAX_COUNT_IDS = 50
# Featured comments shown above an article's thread, newest pick first.
MAX_FEATURED = 10
# The reasons of an editor's audit events: stats and the transparency report count no decision
# for them (the comment's status stays).
FEATURED, UNFEATURED = "featured", "unfeatured"
EDITORIAL_REASONS = (FEATURED, UNFEATURED)
# 95% confidence.
Z = 1.96
# Readers who saw a comment and did not like it, assumed for every comment (see top_score).
UNLIKED_PRIOR = 10


def wilson_lower_bound(positive: int, total: int, z: float = Z) -> float:
    """The lower bound of the Wilson score interval for a proportion of `positive` in `total`:
    how good a comment surely is, given how few readers may have judged it."""
    if total <= 0:
        return 0.0
    p = positive / total
    z2 = z * z
    centre = p + z2 / (2 * total)
    margin = z * math.sqrt((p * (1 - p) + z2 / (4 * total)) / total)
    return max(0.0, (centre - margin) / (1 + z2 / total))  # never below 0 by rounding


def top_score(likes: int) -> float:
    """The top sort's score of a comment with `likes`.

    Reactions are likes only and the service counts no views, so the Wilson interval has no
    "readers who saw it" to put the likes over. Without views the fair assumption is that every
    comment of a thread was seen by alike readers, and that each like is one more reader who
    judged it: n = likes + UNLIKED_PRIOR, a fixed number of readers who saw it and passed. The
    lower bound then grows with every like (more likes: a higher share *and* more evidence), so
    it orders comments exactly as their like counts do, and the database sorts by the stored
    count (an index on reaction_count, exact ties, keyset pages) rather than by a float it would
    have to compute per row. tests/engagement/test_rules.py holds the two orders equal."""
    return wilson_lower_bound(likes, likes + UNLIKED_PRIOR)

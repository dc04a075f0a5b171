"""The pure parts of site adaptation: the gate's figures, the head's storage and what it learns."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest

from service.adaptation.fit import FitConfig, train_adapter
from service.adaptation.gate import auc_interval, count_problem, evaluate, roc_auc
from service.adaptation.model import Adapter, adapted_version
from service.scoring.base import LABELS


def pairwise_auc(labels, scores):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_roc_auc_counts_ties_as_half():
    rng = random.Random(3)
    for _ in range(20):
        labels = [rng.randint(0, 1) for _ in range(40)] + [0, 1]
        scores = [rng.randint(0, 5) for _ in labels]
        assert roc_auc(labels, scores) == pytest.approx(pairwise_auc(labels, scores))
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_auc_interval_narrows_with_more_decisions():
    low_small, _ = auc_interval(0.6, 30, 30)
    low_large, _ = auc_interval(0.6, 1000, 1000)
    assert low_small < 0.5 < low_large < 0.6


def test_too_few_decisions_say_how_many_are_needed():
    assert "needs at least 200" in count_problem(150, 100 - 90)
    assert "with at least 30 of each" in count_problem(20, 300)
    assert count_problem(60, 200) is None


def site(rng, n):
    """Comments of a site whose moderators reject one local word the shipped model never learnt."""
    texts, labels = [], []
    for _ in range(n):
        topic = rng.choice(["the bridge", "the budget", "the match", "the library", "the tram"])
        if rng.random() < 0.4:
            texts.append(f"Whoever planned {topic} is a wazzock.")
            labels.append(1)
        else:
            texts.append(f"Thanks for the update on {topic}.")
            labels.append(0)
    return texts, labels


def flat_scores(n):
    return [{label: 0.2 for label in LABELS} for _ in range(n)]


def test_a_head_learns_the_sites_word_and_survives_storage_without_pickle():
    texts, labels = site(random.Random(1), 300)
    adapter, report = train_adapter(
        texts,
        flat_scores(len(texts)),
        labels,
        tag="site-daily-1",
        base_version="2026.11.1+abc",
        config=FitConfig(max_iter=100),
    )
    assert adapter.version == "2026.11.1+abc+site-daily-1"
    probe = ["The new tram timetable is run by a wazzock.", "Thanks for the tram timetable."]
    rude, polite = adapter.toxicity(probe, flat_scores(2))
    assert rude > 0.5 > 0.2 > polite
    stored = adapter.to_bytes()
    with np.load(io.BytesIO(stored), allow_pickle=False) as npz:  # plain arrays only
        assert set(npz.files) == {"meta", "coef", "keys", "values"}
    again = Adapter.from_bytes(stored)
    assert np.allclose(again.toxicity(probe, flat_scores(2)), [rude, polite], atol=1e-5)
    applied = again.apply(probe[0], flat_scores(1)[0], "2026.11.1+abc")
    assert applied.model_version == "2026.11.1+abc+site-daily-1"
    assert applied["toxicity"] == pytest.approx(rude, abs=1e-5) and applied["insult"] == 0.2


def test_a_long_base_version_is_cut_but_the_site_tag_kept():
    version = adapted_version("embedded:" + "x" * 120, "site-daily-12")
    assert len(version) == 100 and version.endswith("+site-daily-12")


def test_inverted_decisions_fail_the_gate_however_well_the_head_fits_them():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 400)
    shipped = truth * 0.5 + rng.random(400) * 0.6  # the shipped model mostly agrees with the truth
    inverted = 1 - truth
    shares = {"rejected_published": 0.2, "approved_held": 0.1}
    result = evaluate(
        all_labels=inverted,
        shipped_all=shipped,
        held_labels=inverted[-80:],
        current_held=shipped[-80:],
        adapted_held=inverted[-80:] + rng.random(80) * 0.1,
        current_shares=shares,
        adapted_shares=shares,
    )
    rules = {rule["name"]: rule for rule in result["rules"]}
    assert rules["auc_gain"]["passed"] and rules["auc_gain_not_luck"]["passed"]
    assert not rules["labels_agree_with_shipped_model"]["passed"]
    assert result["deploy"] is False and result["verdict"] == "not deployed: labels_agree_with_shipped_model"

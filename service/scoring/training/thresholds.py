"""Default thresholds: the two shares a site lives with, on pooled held-out data.

`held_out_frame` fits the model on the report's random split (same sources, seed and test
fraction as `flask scoring report`) and scores the held-out rows of every real source with it
(and with the shipped spam model: its label is part of every policy). `write_heldout` ships
them as heldout.json (service/scoring/heldout.py reads it for the policy simulation);
`render` writes the model card's "Default thresholds" section from that file alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ...moderation.policy import DEFAULT_THRESHOLDS, POLICY_LABELS, Thresholds
from ..base import LABELS, SPAM_LABEL
from ..heldout import HELDOUT_FILE, POOLED, HeldOut, encode
from ..spam_model import SpamModel
from . import data
from .report import TEST_FRACTION, update_card
from .train import DEFAULT_CONFIG, MODEL_VERSION, TrainConfig, scorer_for, train_frame

CLEAN_HELD_TARGET = 0.05
TOXIC_PUBLISHED_TARGET = 0.10
GRID = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.05))


def held_out_frame(data_dir: Path, model_dir: Path, config: TrainConfig = DEFAULT_CONFIG) -> pd.DataFrame:
    """source, toxic and one score per policy label for every held-out row of the real sources."""
    df = pd.concat([data.load_sources(Path(data_dir)), data.identity_sentences()], ignore_index=True)
    train_mask, test_mask = data.split_random(df, TEST_FRACTION, config.seed)
    test_mask &= (df["source"] != data.AUGMENT_SOURCE).to_numpy()
    weights, bias = train_frame(df[train_mask].reset_index(drop=True), config)
    scorer = scorer_for(weights, bias, config, "random-split")
    held = df[test_mask].reset_index(drop=True)
    texts = held["text"].tolist()
    logits = np.vstack([scorer.logits(texts[i : i + 4096]) for i in range(0, len(texts), 4096)])
    out = pd.DataFrame(1 / (1 + np.exp(-logits)), columns=list(LABELS))
    if SpamModel.files_exist(Path(model_dir)):
        out[SPAM_LABEL] = SpamModel.load(Path(model_dir)).policy_score(texts)
    out.insert(0, "toxic", held["toxicity"].to_numpy(dtype=float) >= 0.5)
    out.insert(0, "source", held["source"].to_numpy())
    return out


def write_heldout(frame: pd.DataFrame, model_dir: Path, seed: int) -> Path:
    labels = [lab for lab in POLICY_LABELS if lab in frame]
    payload = {
        "about": (
            f"Scores of the held-out rows of every labelled source (random split, "
            f"{TEST_FRACTION:.0%} of each source, seed {seed}) by model {MODEL_VERSION} fitted "
            "without them; toxic = the source's toxicity label >= 0.5. Written by "
            "`flask scoring thresholds`; read by the policy simulation."
        ),
        "version": MODEL_VERSION,
        "labels": labels,
        "sources": {
            s: encode(g[labels].to_numpy(), g["toxic"].to_numpy())
            for s, g in frame.groupby("source", sort=False)
        },
    }
    path = Path(model_dir) / HELDOUT_FILE
    path.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
    return path


OTHER_LABELS = tuple(lab for lab in LABELS if lab != "toxicity")
OTHER_HOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, None)


def policy_for(toxicity: float | None, others: float | None) -> dict:
    """toxicity's hold, one hold for the five other labels (None: they hold nothing); spam
    keeps today's default (its scores are moved so that 0.5 is the spam model's own hold)."""
    return {
        "toxicity": Thresholds(toxicity),
        **{lab: Thresholds(others) for lab in OTHER_LABELS},
        SPAM_LABEL: DEFAULT_THRESHOLDS,
    }


def candidates(held: HeldOut) -> list[dict]:
    """Pooled shares of every (toxicity hold, other labels' hold) pair on the grid."""
    return [
        {"toxicity": t, "others": o, **held.shares(policy_for(t, o))[POOLED]}
        for t in GRID
        for o in OTHER_HOLDS
    ]


def choices(held: HeldOut) -> dict[str, dict | None]:
    """The candidate each rule picks (None: no candidate satisfies it)."""
    rows = candidates(held)

    def best(ok, key):
        fitting = [r for r in rows if ok(r)]
        return min(fitting, key=key) if fitting else None

    return {
        "both targets": best(
            lambda r: r["clean_held"] <= CLEAN_HELD_TARGET and r["toxic_published"] <= TOXIC_PUBLISHED_TARGET,
            lambda r: r["clean_held"] + r["toxic_published"],
        ),
        f"clean held <= {CLEAN_HELD_TARGET:.0%}, fewest toxic published": best(
            lambda r: r["clean_held"] <= CLEAN_HELD_TARGET, lambda r: (r["toxic_published"], r["clean_held"])
        ),
        f"toxic published <= {TOXIC_PUBLISHED_TARGET:.0%}, fewest clean held": best(
            lambda r: r["toxic_published"] <= TOXIC_PUBLISHED_TARGET,
            lambda r: (r["clean_held"], r["toxic_published"]),
        ),
        "equal cost (fewest mistakes, each share weighing the same)": best(
            lambda r: True, lambda r: r["clean_held"] + r["toxic_published"]
        ),
    }


def uniform(hold: float | None, reject: float | None = None, spam: Thresholds = DEFAULT_THRESHOLDS) -> dict:
    """One hold (and reject) for the six toxicity labels; spam keeps its own."""
    return {**{lab: Thresholds(hold, reject) for lab in LABELS}, SPAM_LABEL: spam}


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _shares_table(shares: dict) -> list[str]:
    lines = [
        "| source | clean | toxic | clean held | clean rejected | toxic published |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s, v in shares.items():
        name = "**pooled**" if s == POOLED else s
        lines.append(
            f"| {name} | {v['clean']} | {v['toxic']} | {_pct(v['clean_held'])} | "
            f"{_pct(v['clean_rejected'])} | {_pct(v['toxic_published'])} |"
        )
    return lines


def _hold(v: float | None) -> str:
    return "off" if v is None else f"{v:.2f}"


def render(held: HeldOut) -> str:
    """The card's generated "Default thresholds" section."""
    from ...moderation.policy import Policy

    current = Policy().thresholds
    shares = held.shares(current)
    pooled = shares[POOLED]
    meets = pooled["clean_held"] <= CLEAN_HELD_TARGET and pooled["toxic_published"] <= TOXIC_PUBLISHED_TARGET
    out = [
        f"Targets (issue 13): the default policy holds at most {CLEAN_HELD_TARGET:.0%} of clean "
        f"comments and publishes at most {TOXIC_PUBLISHED_TARGET:.0%} of toxic ones, on pooled "
        "held-out data. **Toxic** = the source's toxicity label >= 0.5 (annotator agreement "
        "where the source has it), **clean** = below 0.5. Held-out: the report's random split "
        f"({TEST_FRACTION:.0%} of every real source, seed {DEFAULT_CONFIG.seed}), scored by a fit "
        "on the other 80% that never saw those rows (spam: the shipped spam model); pooled = "
        "every source's held-out rows together. A comment counts as held when **any** label "
        "(the six and spam) reaches its hold threshold, as `decide` does; word lists, "
        "pre-moderation and the other rules are left out (they need more than scores). "
        "Model " + held.version + ".",
        "",
        "Default policy: "
        + "; ".join(f"{lab} hold {_hold(t.hold)}, reject {_hold(t.reject)}" for lab, t in current.items())
        + f". Both targets met: **{'yes' if meets else 'no'}** (pooled: clean held "
        f"{_pct(pooled['clean_held'])}, toxic published {_pct(pooled['toxic_published'])}).",
        "",
        "#### At the default thresholds",
        "",
        *_shares_table(shares),
        "",
        "#### Each label alone at its default hold (pooled)",
        "",
        "| label | clean held | toxic published |",
        "| --- | ---: | ---: |",
    ]
    for lab, limits in current.items():
        if lab in held.labels:
            alone = held.shares({lab: limits})[POOLED]
            out.append(f"| {lab} | {_pct(alone['clean_held'])} | {_pct(alone['toxic_published'])} |")
    out += [
        "",
        "#### What each rule would pick (pooled)",
        "",
        "Candidates: toxicity's hold on a 0.05 grid x one hold for the five other labels "
        "(" + ", ".join(_hold(o) for o in OTHER_HOLDS) + "), spam at its default.",
        "",
        "| rule | toxicity hold | other labels' hold | clean held | toxic published |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for rule, r in choices(held).items():
        if r is None:
            out.append(f"| {rule} | none fits | | | |")
        else:
            out.append(
                f"| {rule} | {_hold(r['toxicity'])} | {_hold(r['others'])} | "
                f"{_pct(r['clean_held'])} | {_pct(r['toxic_published'])} |"
            )
    out += [
        "",
        "#### Trade-off (pooled) as the hold threshold moves",
        "",
        "*all six*: one hold for the six toxicity labels; *toxicity, others 0.5*: toxicity's "
        "hold moves, the other labels stay at 0.5; *toxicity, others off*: only toxicity (and "
        "spam) hold. Spam stays at its default throughout.",
        "",
        "| hold | all six: clean held | all six: toxic published | toxicity, others 0.5: clean held "
        "| toxic published | toxicity, others off: clean held | toxic published |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in GRID:
        a = held.shares(uniform(t))[POOLED]
        b = held.shares(policy_for(t, DEFAULT_THRESHOLDS.hold))[POOLED]
        c = held.shares(policy_for(t, None))[POOLED]
        out.append(
            f"| {t:.2f} | {_pct(a['clean_held'])} | {_pct(a['toxic_published'])} | "
            f"{_pct(b['clean_held'])} | {_pct(b['toxic_published'])} | "
            f"{_pct(c['clean_held'])} | {_pct(c['toxic_published'])} |"
        )
    return "\n".join(out) + "\n"


def write_card(held: HeldOut, model_dir: Path) -> None:
    update_card(Path(model_dir) / "MODEL_CARD.md", "thresholds", render(held))

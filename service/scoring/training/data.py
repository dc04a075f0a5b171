"""Load the labelled sources and map each onto the six labels.

Every loader returns a frame with `text`, `source` and one column per label holding a target
in [0, 1] (annotator agreement where the source has it) or NaN where the source says nothing
about that label: NaN targets are masked out of training and evaluation, never read as 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import LABELS

TRAIN_SOURCES = (
    "civil-comments-spans",
    "davidson-2017",
    "olid-2019",
    "wikipedia-cat-large",
    "jigsaw-2018-samples",
)
BIAS_SOURCE = "bias-madlibs"  # evaluation only: never trained on
AUGMENT_SOURCE = "identity-neutral"  # sentences written for this project, see identity_sentences

SPAN_TYPES = {
    "Insult": "insult",
    "Threat": "threat",
    "Identity based Attack": "identity_attack",
    "Identity based": "identity_attack",  # one truncated type name in the data
    "Profane/Obscene": "obscene",
}


def _frame(source: str, text: Iterable[str], **targets: Iterable[float]) -> pd.DataFrame:
    df = pd.DataFrame({"text": pd.Series(list(text), dtype=str).fillna("")})
    df["source"] = source
    for label in LABELS:
        df[label] = np.asarray(list(targets[label]), dtype=float) if label in targets else np.nan
    # A comment nobody found toxic at all is not an insult, threat, ... either.
    clean = df["toxicity"] == 0
    for label in LABELS[1:]:
        df.loc[clean & df[label].isna(), label] = 0.0
    return df


def _civil_annotations(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    comments = pd.read_csv(root / "comments.csv.gz")
    ann = pd.read_csv(root / "annotations.csv.gz")
    spans = pd.read_csv(root / "spans.csv.gz")
    return comments, ann, spans


def load_civil(root: Path) -> pd.DataFrame:
    """Civil Comments toxic spans: fraction of annotators who found the comment toxic, and
    per span type the fraction who marked a span of that type. No severity: masked.

    The all-toxic / not-toxic flags contradict each other on many annotations (both True
    with no span), so an annotator counts as "toxic" when they marked a span, or flagged the
    comment all toxic without also flagging it not toxic.
    """
    comments, ann, spans = _civil_annotations(root)
    spans = spans.assign(label=spans["type"].map(SPAN_TYPES))
    ann["has_span"] = ann["annotation"].isin(spans["annotation"])
    ann["toxic"] = ann["has_span"] | (ann["all toxic"] & ~ann["not toxic"])
    marked = (spans.dropna(subset=["label"]).drop_duplicates(["annotation", "label"])
              .assign(v=1.0).pivot(index="annotation", columns="label", values="v")
              .reindex(columns=sorted(set(SPAN_TYPES.values()))))
    ann = ann.join(marked, on="annotation")
    per = ann.groupby("comment_id").agg(
        toxicity=("toxic", "mean"),
        **{lab: (lab, lambda s: s.fillna(0).mean()) for lab in set(SPAN_TYPES.values())},
    )
    df = comments.join(per, on="comment_id", how="inner")
    out = _frame("civil-comments-spans", df["comment_text"],
                 **{lab: df[lab] for lab in ("toxicity", *set(SPAN_TYPES.values()))})
    out["id"] = df["comment_id"].to_numpy()
    return out


def load_span_gold(root: Path) -> pd.DataFrame:
    """Per comment, the character offsets that more than half of its annotators marked."""
    comments, ann, spans = _civil_annotations(root)
    n_ann = ann.groupby("comment_id").size()
    spans = spans.merge(ann[["annotation", "comment_id"]], on="annotation")
    gold: dict[int, set[int]] = {}
    for cid, group in spans.groupby("comment_id"):
        votes: dict[int, int] = {}
        for _, g in group.groupby("annotation"):
            chars = set()
            for s, e in zip(g["start"], g["end"], strict=True):
                chars.update(range(int(s), int(e)))
            for c in chars:
                votes[c] = votes.get(c, 0) + 1
        gold[cid] = {c for c, v in votes.items() if 2 * v > n_ann[cid]}
    return pd.DataFrame({
        "id": comments["comment_id"],
        "text": comments["comment_text"].fillna("").astype(str),
        "gold": [sorted(gold.get(cid, ())) for cid in comments["comment_id"]],
    })


def load_davidson(root: Path) -> pd.DataFrame:
    """Tweets: (hate + offensive) / raters -> toxicity; hate / raters -> identity_attack."""
    df = pd.read_csv(root / "labeled_data.csv.gz")
    n = df["count"].clip(lower=1)
    return _frame("davidson-2017", df["tweet"],
                  toxicity=(df["hate_speech"] + df["offensive_language"]) / n,
                  identity_attack=df["hate_speech"] / n)


def load_olid(root: Path) -> pd.DataFrame:
    """OLID: OFF -> toxicity; a targeted insult (TIN) -> insult. An offence aimed at a group
    (GRP) is only half an identity attack: OLID's groups include parties and teams, not only
    identities. Threat and obscenity are not separated from OFF, so they stay masked."""
    df = pd.read_csv(root / "olid-training.csv.gz")
    off = (df["subtask_a"] == "OFF").astype(float)
    insult = (df["subtask_b"] == "TIN").astype(float)
    identity = np.where(df["subtask_c"] == "GRP", 0.5, 0.0)
    return _frame("olid-2019", df["tweet"], toxicity=off, insult=insult,
                  identity_attack=identity)


def load_wikipedia(root: Path) -> pd.DataFrame:
    """Wikipedia talk comments rated in context: label -> toxicity (the parent is not used)."""
    df = pd.read_csv(root / "gc.csv.gz")
    return _frame("wikipedia-cat-large", df["text"], toxicity=df["label"])


def load_jigsaw(root: Path) -> pd.DataFrame:
    """The Jigsaw 2018 sample: all six labels, the only source of severe_toxicity."""
    df = pd.read_csv(root / "train.csv.gz")
    cols = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
    return _frame("jigsaw-2018-samples", df["comment_text"],
                  **{lab: df[col] for lab, col in zip(LABELS, cols, strict=True)})


LOADERS = {
    "civil-comments-spans": load_civil,
    "davidson-2017": load_davidson,
    "olid-2019": load_olid,
    "wikipedia-cat-large": load_wikipedia,
    "jigsaw-2018-samples": load_jigsaw,
}


def load_sources(data_dir: Path, sources: Iterable[str] = TRAIN_SOURCES) -> pd.DataFrame:
    """All training sources present under data_dir (missing folders are skipped)."""
    frames = [LOADERS[s](Path(data_dir) / s) for s in sources if (Path(data_dir) / s).is_dir()]
    if not frames:
        raise FileNotFoundError(f"no training source found under {data_dir}")
    return pd.concat(frames, ignore_index=True)


def load_bias_madlibs(data_dir: Path) -> pd.DataFrame:
    """bias-madlibs with a 0/1 `label` and the identity `term` found in each sentence.

    The term list is read off the data: the `verb_adj` template is "<verb> <term>", so its
    last words are exactly the identity terms; every sentence holds one of them.
    """
    df = pd.read_csv(Path(data_dir) / BIAS_SOURCE / "bias_madlibs_77k.csv.gz")
    terms = set(df.loc[df["Template"] == "verb_adj", "Text"].str.split().str[-1].str.lower())
    words = df["Text"].str.lower().str.findall(r"[a-z]+")
    df["term"] = [next((w for w in reversed(ws) if w in terms), None) for ws in words]
    return pd.DataFrame({"text": df["Text"], "label": (df["Label"] == "BAD").astype(int),
                         "template": df["Template"], "term": df["term"]}).dropna()


# Neutral sentences mentioning identities, written for this project, to teach the model that
# naming an identity is not toxic (the toxic sources use these words mostly in attacks).
_IDENTITIES = (
    "gay", "lesbian", "bisexual", "transgender", "trans", "queer", "straight",
    "heterosexual", "homosexual", "nonbinary", "lgbt", "lgbtq", "muslim", "islamic", "jewish",
    "christian", "catholic", "protestant", "hindu", "buddhist", "sikh", "atheist", "black",
    "white", "asian", "african", "african american", "latino", "latina", "hispanic",
    "mexican", "chinese", "japanese", "indian", "arab", "european", "american", "canadian",
    "immigrant", "female", "male", "woman", "man", "elderly", "old", "young", "teenage",
    "deaf", "blind", "disabled", "paralyzed",
)
_NEUTRAL_TEMPLATES = (
    "My neighbour is {t} and we often cook dinner together.",
    "The {t} community centre opens a new library next week.",
    "She wrote a thoughtful essay about growing up {t}.",
    "Our team hired a {t} engineer who fixed the build in a day.",
    "The museum has a new exhibit on {t} history.",
    "He is {t} and proud of his family.",
    "A {t} student won the science fair this year.",
    "Thanks to the {t} volunteers who cleaned the park.",
    "The article interviews {t} parents about school lunches.",
    "I have {t} friends from my football club.",
    "The mayor met with {t} business owners on Tuesday.",
    "This book tells the story of a {t} family moving to a new city.",
    "Being {t} has never stopped her from travelling.",
    "The survey asked {t} voters about public transport.",
    "A {t} doctor opened a clinic downtown.",
    "We celebrated the holiday with our {t} neighbours.",
)


# Identity words whose contribution to `toxicity` the shipped model zeroes after training
# (meta.json "neutral_terms"; see EmbeddedScorer): naming a group is not toxic, yet the toxic
# sources use these words mostly in attacks, so a linear model learns them as toxic cues. The
# list is written for this project from common identity vocabulary (not read off bias-madlibs).
# identity_attack keeps them: there, who is attacked is part of the judgement.
NEUTRAL_TERMS = tuple(sorted({
    "gay", "lesbian", "bisexual", "transgender", "trans", "queer", "straight", "heterosexual",
    "homosexual", "nonbinary", "lgbt", "lgbtq", "lgbtqia", "intersex", "asexual", "cisgender",
    "cis", "muslim", "islamic", "islam", "jewish", "jew", "judaism", "christian", "catholic",
    "protestant", "evangelical", "mormon", "hindu", "buddhist", "sikh", "atheist", "agnostic",
    "religious", "black", "white", "brown", "asian", "african", "latino", "latina", "latinx",
    "hispanic", "mexican", "chinese", "japanese", "korean", "indian", "pakistani", "arab",
    "arabic", "european", "american", "canadian", "british", "english", "french", "german",
    "russian", "immigrant", "migrant", "refugee", "female", "male", "woman", "man", "women",
    "men", "girl", "boy", "lady", "gentleman", "elderly", "old", "older", "young", "younger",
    "teenage", "teen", "teenager", "millennial", "boomer", "aged", "deaf", "blind", "disabled",
    "paralyzed", "wheelchair", "autistic", "gays", "lesbians", "bisexuals", "muslims", "jews",
    "christians", "catholics", "hindus", "buddhists", "sikhs", "atheists", "blacks", "whites",
    "asians", "africans", "latinos", "hispanics", "mexicans", "immigrants", "migrants",
    "refugees", "females", "males", "girls", "boys", "ladies", "americans", "canadians",
    "teenagers", "teens", "millennials", "boomers", "europeans", "arabs", "indians",
}))
NEUTRAL_LABELS = ("toxicity",)


def identity_sentences() -> pd.DataFrame:
    """Neutral identity sentences, all labels 0."""
    text = [tpl.format(t=t) for t in _IDENTITIES for tpl in _NEUTRAL_TEMPLATES]
    zeros = np.zeros(len(text))
    return _frame(AUGMENT_SOURCE, text, **{lab: zeros for lab in LABELS})


def split_random(df: pd.DataFrame, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Boolean masks (train, test): a random split of every source with the same fraction."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(df), dtype=bool)
    for _, idx in df.groupby("source").indices.items():
        pick = rng.permutation(idx)[: int(round(test_fraction * len(idx)))]
        test[pick] = True
    return ~test, test

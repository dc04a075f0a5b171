"""`flask scoring ...`: train, evaluate, score and report on the toxicity model.

The work is done by plain functions (evaluate_csv, score_texts, and the training package) so
they run without Flask; the commands only read settings and print.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import click
import numpy as np
import pandas as pd
from flask import current_app
from flask.cli import AppGroup

from .base import LABELS, SPAM_LABEL, Scorer
from .fetch import DEFAULT_RETRIES, FetchError, fetch_release, hub_checkpoint_dir
from .fetch import RELEASES as DETOXIFY_RELEASES
from .loader import load_scorer

scoring_cli = AppGroup("scoring", help="Train, evaluate and try the toxicity scorer.")

BATCH = 256
# shared/ sits beside the repository on developer machines and in CI.


def _data_dir(option: str | None) -> Path:
    return Path(option or current_app.config["TOXICITY_DATA_DIR"])


def _model_dir(option: str | None) -> Path:
    return Path(option or current_app.config["EMBEDDED_MODEL_PATH"])


def score_all(scorer: Scorer, texts: Sequence[str],
              labels: Sequence[str] = LABELS) -> np.ndarray:
    """Scores of many texts in batches, shape (len(texts), len(labels))."""
    rows = []
    for i in range(0, len(texts), BATCH):
        rows += [[s[lab] for lab in labels] for s in scorer.score(texts[i : i + BATCH])]
    return np.asarray(rows, dtype=float).reshape(len(texts), len(labels))


def evaluate_csv(scorer: Scorer, path: Path) -> dict:
    """ROC-AUC and PR-AUC per label of `scorer` on a CSV (optionally gzip) with a `text`
    column and any of the label columns (0/1 or fractions; >= 0.5 counts as toxic), `spam`
    among them if the scorer answers it."""
    from .training import metrics

    df = pd.read_csv(path)
    if "text" not in df:
        raise click.UsageError(f"{path} has no 'text' column")
    present = [lab for lab in LABELS if lab in df]
    spam = SPAM_LABEL in df and SPAM_LABEL in scorer.labels
    if not present and not spam:
        known = ", ".join((*LABELS, *([SPAM_LABEL] if SPAM_LABEL in scorer.labels else [])))
        raise click.UsageError(f"{path} has none of the label columns {known}")
    labels = (*LABELS, SPAM_LABEL) if spam else LABELS
    scores = score_all(scorer, df["text"].fillna("").astype(str).tolist(), labels)
    per_label = metrics.label_metrics(df, scores[:, : len(LABELS)], present)
    if spam:  # not a detoxify label: label_metrics computes it under the first label's name
        same = metrics.label_metrics(pd.DataFrame({LABELS[0]: df[SPAM_LABEL]}),
                                     scores[:, len(LABELS) :], [LABELS[0]])
        if same:
            per_label[SPAM_LABEL] = same[LABELS[0]]
    return {"scorer": scorer.name, "version": scorer.version, "rows": len(df),
            "labels": per_label,
            "mean_roc_auc": metrics.mean_of(per_label, "roc_auc"),
            "mean_pr_auc": metrics.mean_of(per_label, "pr_auc")}


def score_texts(scorer: Scorer, texts: Sequence[str], explain: bool = False) -> list[dict]:
    """Scores (and, if asked and the scorer can, spans) for a few texts."""
    out = []
    for text, scores in zip(texts, scorer.score(list(texts)), strict=True):
        item: dict = {"text": text, "scores": scores}
        if explain and hasattr(scorer, "explain"):
            item["spans"] = {lab: [asdict(s) | {"text": text[s.start : s.end]} for s in spans]
                             for lab, spans in scorer.explain(text).items()}
        out.append(item)
    return out


@scoring_cli.command("train")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Labelled sources.")
@click.option("--out", type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--holdout", type=str, default=None, help="Leave this source out.")
def train_command(data_dir: str | None, out: str | None, seed: int, holdout: str | None) -> None:
    """Train the embedded model and write weights.npz + meta.json."""
    from .training.train import TrainConfig, train_model

    meta = train_model(_data_dir(data_dir), _model_dir(out), TrainConfig(seed=seed), holdout)
    click.echo(json.dumps({"out": str(_model_dir(out)), "rows": meta["rows"],
                           "train_seconds": meta["train_seconds"]}))


@scoring_cli.command("train-spam")
@click.option("--spam-dir", type=click.Path(file_okay=False),
              help="Labelled comment spam (default: spam/ beside TOXICITY_DATA_DIR).")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Toxicity sources, for the news comments (default: TOXICITY_DATA_DIR).")
@click.option("--out", type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--seed", type=int, default=0, show_default=True)
def train_spam_command(spam_dir: str | None, data_dir: str | None, out: str | None,
                       seed: int) -> None:
    """Train the spam label leaving one video out, then on all: spam.npz + spam.json, and
    the spam section of MODEL_CARD.md."""
    from .training import spam
    from .training.report import update_card

    toxicity = _data_dir(data_dir)
    model_dir = _model_dir(out)
    model, report, vocab = spam.run(Path(spam_dir or toxicity.parent / "spam"), toxicity,
                             spam.SpamConfig(seed=seed),
                             progress=lambda msg: click.echo(msg, err=True))
    spam.write(model, report, model_dir, vocab)
    card = model_dir / "MODEL_CARD.md"
    if card.is_file():
        update_card(card, "spam", spam.render(report))
    click.echo(json.dumps({"out": str(model_dir), "mean_roc_auc": report["mean_roc_auc"],
                           "default_hold": report["default_hold"],
                           "train_seconds": report["train_seconds"]}))


@scoring_cli.command("evaluate")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate_command(data_path: str, as_json: bool) -> None:
    """Per-label ROC-AUC and PR-AUC of the configured scorer on a labelled CSV."""
    result = evaluate_csv(load_scorer(current_app.config), Path(data_path))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{result['scorer']} {result['version']} on {result['rows']} rows")
    click.echo(f"{'label':<16}{'rows':>8}{'pos':>8}{'ROC-AUC':>10}{'PR-AUC':>10}")
    for lab, m in result["labels"].items():
        click.echo(f"{lab:<16}{m['rows']:>8}{m['positives']:>8}"
                   f"{m['roc_auc']:>10.4f}{m['pr_auc']:>10.4f}")
    click.echo(f"{'mean':<32}{result['mean_roc_auc']:>10.4f}{result['mean_pr_auc']:>10.4f}")


@scoring_cli.command("score")
@click.argument("texts", nargs=-1, required=True)
@click.option("--explain", is_flag=True, help="Also show the words behind each label.")
def score_command(texts: tuple[str, ...], explain: bool) -> None:
    """Score TEXTS with the configured scorer; prints JSON."""
    scorer = load_scorer(current_app.config)
    click.echo(json.dumps(score_texts(scorer, texts, explain), indent=2, ensure_ascii=False))


@scoring_cli.command("report")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Labelled sources.")
@click.option("--model-dir", type=click.Path(file_okay=False), help="Model and its card.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--jobs", type=int, default=2, show_default=True, help="Parallel fits.")
def report_command(data_dir: str | None, model_dir: str | None, seed: int, jobs: int) -> None:
    """Random-split, leave-one-source-out, bias and span figures -> MODEL_CARD.md."""
    from .training.report import run_report, write_report
    from .training.train import TrainConfig

    model = _model_dir(model_dir)
    report = run_report(_data_dir(data_dir), model, TrainConfig(seed=seed), jobs)
    write_report(report, model)
    click.echo(f"wrote {model / 'report.json'} and {model / 'MODEL_CARD.md'}", err=True)


@scoring_cli.command("thresholds")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Labelled sources.")
@click.option("--model-dir", type=click.Path(file_okay=False), help="Model and its card.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--refit/--no-refit", default=False, show_default=True,
              help="Fit and score the held-out split again (~5 min) instead of reading heldout.json.")
def thresholds_command(data_dir: str | None, model_dir: str | None, seed: int, refit: bool) -> None:
    """Clean comments held and toxic comments published at the default thresholds, per source
    and pooled, on held-out data -> heldout.json and MODEL_CARD.md ("Default thresholds")."""
    from . import heldout
    from .training import thresholds
    from .training.train import TrainConfig

    model = _model_dir(model_dir)
    if refit or heldout.load(model) is None:
        frame = thresholds.held_out_frame(_data_dir(data_dir), model, TrainConfig(seed=seed))
        thresholds.write_heldout(frame, model, seed)
    held = heldout.load(model)
    if held is None:
        raise click.ClickException(f"cannot read {model / heldout.HELDOUT_FILE}")
    thresholds.write_card(held, model)
    click.echo(f"wrote {model / 'MODEL_CARD.md'} (Default thresholds)", err=True)


@scoring_cli.command("embedding-stage")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Labelled sources.")
@click.option("--model-dir", type=click.Path(file_okay=False), help="Model and its card.")
@click.option("--per-source", type=int, default=3000, show_default=True,
              help="Rows sampled per source to train the head (the holdout: all).")
@click.option("--bias-rows", type=int, default=2000, show_default=True,
              help="bias-madlibs sentences sampled for the bias figures.")
@click.option("--ngram-holdout-model", type=click.Path(exists=True, dir_okay=False),
              default=None, help="An .npz (W, b) of the n-gram model already trained without "
              "the holdout (same code and settings), to skip that fit.")
@click.option("--ship/--no-ship", default=False, show_default=True,
              help="Write embedding_head.npz/.json (the stage the scorer loads when enabled).")
def embedding_stage_command(data_dir: str | None, model_dir: str | None, per_source: int,
                            bias_rows: int, ngram_holdout_model: str | None,
                            ship: bool) -> None:
    """Train and evaluate the optional sentence-embedding stage -> MODEL_CARD.md."""
    from .training import embedding_head
    from .training.report import update_card

    model = _model_dir(model_dir)
    result = embedding_head.run(
        _data_dir(data_dir), model, per_source=per_source, bias_rows=bias_rows, write=ship,
        ngram_holdout_model=Path(ngram_holdout_model) if ngram_holdout_model else None)
    (model / "embedding_report.json").write_text(json.dumps(result, indent=1) + "\n",
                                                 encoding="utf-8")
    update_card(model / "MODEL_CARD.md", "embedding", embedding_head.render(result))
    click.echo(f"wrote {model / 'embedding_report.json'} and {model / 'MODEL_CARD.md'}", err=True)


class _DownloadProgress:
    """click's progress bar in MB on stderr (stdout says what was installed), made once the size
    is known; a resumed download starts where its .part file ends."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None
        self.shown = 0

    def __call__(self, done: int, total: int | None) -> None:
        if total is None:
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=total,
                label=self.label,
                file=sys.stderr,
                item_show_func=lambda item: (
                    None if item is None else f"{item / 1e6:.1f}/{total / 1e6:.1f} MB"
                ),
            )
            self.bar.__enter__()
        self.bar.update(done - self.shown, current_item=done)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@scoring_cli.command("fetch-detoxify")
@click.argument("name", type=click.Choice(list(DETOXIFY_RELEASES)))
@click.option("--url", help="Download from this URL (a mirror) instead of the published one.")
@click.option("--sha256", help="Expected SHA-256; required for a release without a pinned one.")
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Install this local copy instead of downloading (air-gapped servers).",
)
@click.option(
    "--dest",
    type=click.Path(file_okay=False),
    help="Install here instead of torch's hub cache (then set DETOXIFY_CHECKPOINT).",
)
@click.option(
    "--retries",
    type=int,
    default=DEFAULT_RETRIES,
    show_default=True,
    help="Resume this many times after a cut connection.",
)
def fetch_detoxify_command(
    name: str, url: str | None, sha256: str | None, from_file: str | None, dest: str | None, retries: int
) -> None:
    """Download (resumably) or copy detoxify's released checkpoint NAME, check its SHA-256 and
    install it where SCORER=detoxify DETOXIFY_MODEL=NAME loads it."""
    progress = _DownloadProgress(name)
    try:
        installed = fetch_release(
            name, url=url, sha256=sha256, from_file=from_file, dest=dest, retries=retries, progress=progress
        )
    except FetchError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        progress.close()
    verb = "already installed" if installed.already_installed else "installed"
    click.echo(f"{verb} {name}: {installed.path} ({installed.size} bytes, sha256 {installed.sha256})")
    if installed.path.parent.resolve() == hub_checkpoint_dir().resolve():
        click.echo(f"use it with SCORER=detoxify DETOXIFY_MODEL={name}")
    else:
        click.echo(f"use it with SCORER=detoxify DETOXIFY_CHECKPOINT={installed.path}")
    click.echo(
        f"its base model {installed.release.base_model} must be available offline too: "
        "its config and tokenizer in the Hugging Face cache, or DETOXIFY_CONFIG_PATH"
    )

"""`flask scoring adapt` and `flask scoring adaptation-curve`: adapt a site's model to its
moderators' decisions (or roll it back), and the model card's learning curve."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..errors import ServiceError


class StageProgress:
    """One click progress bar per stage (score, featurise, fit), on stderr."""

    LABELS = {"score": "scoring decided comments", "featurise": "featurising", "fit": "fitting"}

    def __init__(self) -> None:
        self.bars: dict[str, tuple[object, int]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.bars:
            self.close()
            bar = click.progressbar(length=total, label=self.LABELS.get(stage, stage), file=sys.stderr)
            bar.__enter__()
            self.bars = {stage: (bar, 0)}
        bar, shown = self.bars[stage]
        bar.update(max(0, done - shown))
        self.bars[stage] = (bar, max(done, shown))

    def close(self) -> None:
        for bar, _ in self.bars.values():
            bar.__exit__(None, None, None)
        self.bars = {}


@click.command("adapt")
@click.option("--site", "slug", required=True, help="The site's slug.")
@click.option(
    "--rollback", is_flag=True, help="Retire the active adapted model: the previous one scores again."
)
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
@with_appcontext
def adapt_command(slug: str, rollback: bool, as_json: bool) -> None:
    """Train a model on the site's moderator decisions and deploy it if the gate says it is
    better than the current one (or, with --rollback, go back one version)."""
    from ..sites import site_by_slug
    from . import store

    engine = current_app.extensions["scoring"]
    try:
        site = site_by_slug(slug)
        if rollback:
            store.rollback(site)
            state = store.site_models(site, engine.scorer, limit=1)
            click.echo(
                f"{slug}: new comments now get {state['scoring']['name']} {state['scoring']['version']}"
            )
            return
        progress = StageProgress()
        try:
            model = store.train_site_model(site, engine, "cli", progress=progress)
        finally:
            progress.close()
    except ServiceError as error:
        raise click.ClickException(error.detail) from None
    evaluation = model.evaluation
    if as_json:
        click.echo(json.dumps(store.model_view(model), default=str, indent=1))
        return
    for rule in evaluation["rules"]:
        click.echo(f"  [{'pass' if rule['passed'] else 'FAIL'}] {rule['name']}: {rule['text']}")
    click.echo(f"{slug}: {model.version}: {evaluation['verdict']}")


@click.command("adaptation-curve")
@click.option(
    "--source",
    "sources",
    multiple=True,
    default=("olid-2019", "civil-comments-spans"),
    show_default=True,
    help="A labelled source played as one site (repeat for several).",
)
@click.option(
    "--base-model",
    "base_models",
    multiple=True,
    metavar="SOURCE=DIR",
    help="A model trained without SOURCE (flask scoring train --holdout SOURCE --out DIR); "
    "one is trained now for a source without one (minutes).",
)
@click.option("--data-dir", type=click.Path(file_okay=False), help="Labelled sources.")
@click.option("--seeds", default="0,1,2", show_default=True, help="Random orders of the site's traffic.")
@click.option("--write/--no-write", default=True, show_default=True, help="Update MODEL_CARD.md.")
@with_appcontext
def adaptation_curve_command(
    sources: tuple[str, ...], base_models: tuple[str, ...], data_dir: str | None, seeds: str, write: bool
) -> None:
    """The learning curve of site adaptation: ROC-AUC on a site's unseen comments after 250 ...
    5,000 decisions, a labelled source the base model never saw played as the site's traffic."""
    from ..scoring.training import data

    data_path = Path(data_dir or current_app.config["TOXICITY_DATA_DIR"])
    given = dict(item.split("=", 1) for item in base_models)
    for source in (*sources, *given):
        if source not in data.LOADERS:
            raise click.UsageError(f"{source}: a source is one of {', '.join(data.LOADERS)}")
    from .simulation import render_all

    reports = {
        source: _curve(source, given.get(source), data_path, [int(s) for s in seeds.split(",")])
        for source in sources
    }
    body = render_all(reports)
    click.echo(body)
    if write:
        from ..scoring.training.report import update_card

        model_dir = Path(current_app.config["EMBEDDED_MODEL_PATH"])
        out = model_dir / "adaptation_report.json"
        out.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
        update_card(model_dir / "MODEL_CARD.md", "adaptation", body)
        click.echo(f"wrote {out} and {model_dir / 'MODEL_CARD.md'}", err=True)


def _curve(source: str, base_model: str | None, data_path: Path, seeds: list[int]) -> dict:
    from ..scoring.embedded import EmbeddedScorer
    from ..scoring.training import data, train
    from .simulation import learning_curve

    with tempfile.TemporaryDirectory() as scratch:
        if base_model is None:
            click.echo(f"training the base model without {source}", err=True)
            base_model = scratch
            train.train_model(data_path, Path(scratch), holdout=source)
        meta = json.loads((Path(base_model) / "meta.json").read_text(encoding="utf-8"))
        if meta.get("holdout") != source:
            raise click.UsageError(
                f"{base_model} was trained with {source}: train it with --holdout {source}"
            )
        scorer = EmbeddedScorer.load(Path(base_model), embedding_stage=False)
    frame = data.LOADERS[source](data_path / source)
    report = learning_curve(
        scorer,
        frame["text"].tolist(),
        (frame["toxicity"].to_numpy() >= 0.5).astype(int),
        seeds=seeds,
        say=lambda line: click.echo(f"{source}: {line}", err=True),
    )
    report["source"] = source
    return report

"""The embed's first render of a 200-comment thread in Chromium (Debian's, through Playwright).

Serves the app (SQLite, the embedded scorer) from a thread, posts 20 top-level comments with 9
replies each through the API (200 comments, all in the embed's first page), then loads the demo
page RUNS times in one browser context (embed.js cached after the first) and reads the
performance marks the embed sets (cms-start when it runs, cms-data when the thread's JSON has
arrived, cms-thread when the comments are in the page) and one made after the next frame:

    navigation -> thread   from the navigation's start to the comments in the page (the figure)
    embed -> thread        from the embed's start: its catalog, the API request, the drawing
    drawing                JSON arrived -> comments in the page (the embed's own work)
    next frame             comments in the page -> the next frame (style, layout: the browser's work)

    .venv/bin/python bench/embed_render.py [--runs 20] [--comments 200] [--lang en,de,ar]
        [--embed FILE]   serve FILE as /embed.js (to compare another version)

Prints a table and a JSON line {"benchmark": "embed_render", "results": {lang: {figure: ms}}}.
Target: navigation -> thread p50 < 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARTICLE = "demo-lighthouse-restoration"
WORDS = """harbour lighthouse lamp tower stone keeper winter volunteers council grant lens glass pier
evening summer visitors museum drawings iron gallery water wind storm restoration supper swim
postcard town light beam flash weekend ferry gulls rope paint brass ladder lantern sea tide"""
# After the thread is drawn: a mark in the next frame, once style and layout are done (taken
# from the embed's own mark call: a PerformanceObserver's callback may come much later).
PAINTED = """
(function () {
  var mark = performance.mark.bind(performance);
  performance.mark = function (name) {
    var entry = mark.apply(null, arguments);
    if (name === "cms-thread" && !performance.getEntriesByName("bench-painted").length) {
      requestAnimationFrame(function () { setTimeout(function () { mark("bench-painted"); }, 0); });
    }
    return entry;
  };
})();
"""
MARKS = """() => {
  const at = name => { const m = performance.getEntriesByName(name)[0]; return m ? m.startTime : null; };
  const root = document.querySelector(".cms-comments").shadowRoot;
  return { start: at("cms-start"), data: at("cms-data"), thread: at("cms-thread"),
           painted: at("bench-painted"), comments: root.querySelectorAll(".cms-comment").length };
}"""


def text(rng, n: int) -> str:
    """A friendly comment, different enough from every other one not to look like a copy."""
    words = " ".join(rng.choice(WORDS.split()) for _ in range(rng.randint(12, 30)))
    return f"Reader note {n}: I liked the part about the {words}. Thanks for writing it up."


def serve(tmp: Path):
    from flask_migrate import upgrade
    from werkzeug.serving import WSGIRequestHandler, make_server

    from service import create_app
    from service.demo import ensure_demo
    from service.scoring.embedded import EmbeddedScorer
    from service.sites import site_by_slug, update_site

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "SCORER_INSTANCE": EmbeddedScorer.load(ROOT / "models" / "embedded"),
            "SECRET_KEY": "bench-embed-render",
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    app.instance_path = str(tmp / "instance")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        ensure_demo(app, url)
        update_site(
            site_by_slug("demo"), {"policy": {"velocity_per_minute": 100000, "velocity_per_hour": 100000}}
        )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, url


def seed(app, url: str, comments: int) -> int:
    """Top-level comments with 9 replies each (a reply to a reply in every third), through the API."""
    import random

    from service.sites import site_by_slug
    from service.spam.bots import issue_render_token

    keys = json.loads((Path(app.instance_path) / "demo-keys.json").read_text())
    with app.app_context():
        site_id = site_by_slug("demo").id
    client = app.test_client()
    rng = random.Random(7)
    approved = 0
    parent = reply = None
    for n in range(comments):
        body = {
            "article": {"id": ARTICLE, "url": f"{url}/demo", "title": "Harbour lighthouse lit again"},
            "author": {"name": f"Reader {n}", "email": f"reader{n}@bench.example"},
            "text": text(rng, n),
            "render_token": issue_render_token(app.config["SECRET_KEY"], site_id, ARTICLE, time.time() - 60),
        }
        if n % 10:
            body["parent_id"] = reply if n % 3 == 0 and reply else parent
        headers = {
            "Authorization": f"Bearer {keys['embed']}",
            "Origin": url,
            "X-Forwarded-For": f"10.{n // 250}.{n % 250}.1",
        }
        answer = client.post("/v1/comments", json=body, headers=headers)
        assert answer.status_code == 201, answer.get_json()
        posted = answer.get_json()
        if posted["status"] == "approved":
            approved += 1
            if n % 10 == 0:
                parent, reply = posted["id"], None
            else:
                reply = posted["id"]
    return approved


def measure(url: str, langs: list[str], runs: int, embed: Path | None, expected: int) -> dict:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        for lang in langs:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(PAINTED)
            if embed:
                context.route(
                    f"{url}/embed.js",
                    lambda route: route.fulfill(
                        status=200,
                        content_type="text/javascript",
                        body=embed.read_text(),
                        headers={"Cache-Control": "max-age=300"},
                    ),
                )
            samples: dict[str, list[float]] = {
                "navigation -> thread": [],
                "embed -> thread": [],
                "drawing": [],
                "next frame": [],
            }
            page = context.new_page()
            page.goto(f"{url}/demo?as=anonymous&lang={lang}")  # warm-up: caches, the server's first reads
            page.wait_for_function("() => performance.getEntriesByName('bench-painted').length > 0")
            for _ in range(runs):
                page.goto(f"{url}/demo?as=anonymous&lang={lang}")
                page.wait_for_function("() => performance.getEntriesByName('bench-painted').length > 0")
                marks = page.evaluate(MARKS)
                assert marks["comments"] == expected, marks
                samples["navigation -> thread"].append(marks["thread"])
                samples["embed -> thread"].append(marks["thread"] - marks["start"])
                samples["drawing"].append(marks["thread"] - marks["data"])
                samples["next frame"].append(marks["painted"] - marks["thread"])
            context.close()
            results[lang] = {
                name: {
                    "p50": round(statistics.median(values), 1),
                    "p90": round(statistics.quantiles(values, n=10)[-1], 1),
                }
                for name, values in samples.items()
            }
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--lang", default="en,de,ar")
    parser.add_argument("--embed", type=Path, help="serve this file as /embed.js")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, server, url = serve(Path(tmp))
        try:
            approved = seed(app, url, args.comments)
            print(f"thread: {approved} approved comments of {args.comments} posted")
            results = measure(url, args.lang.split(","), args.runs, args.embed, approved)
        finally:
            server.shutdown()
            app.extensions["scoring"].close()
    print(f"{'lang':<6}{'figure':<24}{'p50 ms':>10}{'p90 ms':>10}")
    for lang, figures in results.items():
        for name, values in figures.items():
            print(f"{lang:<6}{name:<24}{values['p50']:>10}{values['p90']:>10}")
    print("load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(json.dumps({"benchmark": "embed_render", "comments": approved, "results": results}))


if __name__ == "__main__":
    main()

"""The floor for bench/api.py's GET: a bare Flask app that answers the thread's URL with the bytes
the service served (body, ETag, Cache-Control), with no key check, cache, database, CORS, metrics
or logs. bench/api.py runs it under gunicorn with the service's workers and threads.

    BARE_BODY=/path/to/body.json BARE_ETAG='"..."' gunicorn bench.bare_flask:app
"""

from __future__ import annotations

import os

from flask import Flask

app = Flask(__name__)
with open(os.environ["BARE_BODY"], "rb") as handle:
    BODY = handle.read()
HEADERS = {"ETag": os.environ.get("BARE_ETAG", '"bare"'), "Cache-Control": "no-cache"}


@app.get("/v1/articles/<string:article_id>/comments")
def thread(article_id: str):
    return app.response_class(BODY, mimetype="application/json", headers=HEADERS)

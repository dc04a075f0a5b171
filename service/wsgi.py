"""The WSGI entry point for gunicorn: `gunicorn service.wsgi:app`."""

import gc
import itertools

from . import create_app

# What a worker builds at start and in its first requests (modules, the app, the ORM's mappings,
# the model: ~165,000 objects) lives as long as the process. Left to the garbage collector, each
# full pass walks them all, ~90 ms during which no request runs: the long tail of the API's
# latency. They are frozen (skipped by the collector) once the model is loaded and again after
# the first requests, whose lazy imports add their own.
WARM_UP_REQUESTS = 200

app = create_app()
# Load the model now, in the background: /readyz says when it is ready, and a comment that
# arrives before then is stored as pending and scored later.
app.extensions["scoring"].load_in_background(then=gc.freeze)
gc.freeze()

_served = itertools.count(1)  # next() is atomic: request threads share it


@app.after_request
def _freeze_after_warm_up(response):
    if next(_served) == WARM_UP_REQUESTS:
        gc.freeze()
    return response

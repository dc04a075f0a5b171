"""The WSGI entry point for gunicorn: `gunicorn service.wsgi:app`."""

import gc
import itertools
import sys

from . import create_app
from .config import ConfigurationError

# What a worker builds at start and in its first requests (modules, the app, the ORM's mappings,
# the model: ~165,000 objects) lives as long as the process. Left to the garbage collector, each
# full pass walks them all, ~90 ms during which no request runs: the long tail of the API's
# latency. They are frozen (skipped by the collector) once the model is loaded and again after
# the first requests, whose lazy imports add their own.
WARM_UP_REQUESTS = 200

try:
    app = create_app()
except ConfigurationError as error:
    # Said once and plainly rather than as a traceback per worker; status 4 makes gunicorn stop
    # ("App failed to load") instead of restarting workers that cannot start.
    print(error, file=sys.stderr, flush=True)
    raise SystemExit(4) from None
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

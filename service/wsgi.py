"""The WSGI entry point for gunicorn: `gunicorn service.wsgi:app`."""

from . import create_app

app = create_app()
# Load the model now, in the background: /readyz says when it is ready, and a comment that
# arrives before then is stored as pending and scored later.
app.extensions["scoring"].load_in_background()

# One image for every process of the service, as a non-root user; the embedded scorer needs no torch.
#
#   docker run --rm --env-file prod.env IMAGE release   # migrate the database (once per deployment)
#   docker run -d --env-file prod.env -p 8000:8000 IMAGE   # the web tier (the default command: web)
#   docker run -d --env-file prod.env IMAGE worker      # Celery: webhooks and scheduled jobs
#   docker run -d --env-file prod.env IMAGE beat        # Celery beat (one is enough)
#
# SERVICE_ENV=production: every command refuses to start, naming the setting, until SECRET_KEY and
# DATABASE_URL are set. See docs/deployment.md and compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SERVICE_ENV=production \
    INSTANCE_PATH=/data \
    EMBEDDED_MODEL_PATH=/app/models/embedded

WORKDIR /app
RUN useradd --create-home --uid 10001 app

COPY pyproject.toml README.md ./
COPY service ./service
COPY models ./models
# /data is the one folder the app writes: its instance files and, for a single container on SQLite
# (DATABASE_URL=sqlite:////data/comments.db), the database. /app stays read-only to the app user.
RUN pip install . && mkdir -p /data && chown app:app /data
VOLUME ["/data"]

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1

ENTRYPOINT ["comment-service"]
CMD ["web"]

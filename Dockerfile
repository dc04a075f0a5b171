# The web tier: gunicorn serving the app, as a non-root user. The embedded scorer needs no torch.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EMBEDDED_MODEL_PATH=/app/models/embedded

WORKDIR /app
RUN useradd --create-home --uid 10001 app

COPY pyproject.toml README.md ./
COPY service ./service
COPY models ./models
RUN pip install . && mkdir -p /app/instance && chown app:app /app/instance

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1

# Run `flask --app service db upgrade` as a release step before starting new containers.
CMD ["gunicorn", "--workers", "2", "--threads", "4", "--bind", "0.0.0.0:8000", \
     "--graceful-timeout", "20", "--access-logfile", "-", "service.wsgi:app"]

# The Skewless prediction API. Built by docker-compose (service `api`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SKEWLESS_ROOT_DIR=/app
WORKDIR /app

COPY requirements.lock pyproject.toml README.md ./
RUN pip install -r requirements.lock
COPY skewless/ skewless/
COPY simulation/ simulation/
COPY feature_repo/ feature_repo/
COPY training/ training/
COPY serving/ serving/
COPY monitoring/ monitoring/
COPY lifecycle/ lifecycle/
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 skewless \
    && mkdir -p /app/data && chown -R skewless /app/data
USER skewless

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2)"
CMD ["skewless", "serve", "--host", "0.0.0.0", "--port", "8000"]

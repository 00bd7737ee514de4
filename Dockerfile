# Slim serving image: Flask + onnxruntime + numpy + Pillow. No TensorFlow, no training code.
#   make docker          (docker build -t draw-a-digit:latest .)
#   docker run -p 8000:8000 draw-a-digit:latest
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=2

WORKDIR /app

# Dependencies first: this layer is reused until the requirements change.
COPY requirements-serve.txt requirements-postgres.txt ./
RUN pip install -r requirements-serve.txt
# The PostgreSQL driver, for replicas that keep their corrections in one database
# (deploy/kubernetes.yaml): docker build --build-arg POSTGRES=1 .
ARG POSTGRES=0
RUN if [ "$POSTGRES" = 1 ]; then pip install -r requirements-postgres.txt; fi

# Only what serving needs (tests/serving/test_container.py assembles these and runs them).
COPY serve/ serve/
COPY templates/ templates/
COPY static/ static/
COPY models/mnist.onnx models/mnist.json models/

# corrections/ holds the default SQLite store of corrections (CORRECTIONS_URL); mount a
# volume there to keep them.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app \
    && mkdir corrections && chown app corrections
USER app

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"

CMD ["gunicorn", "--config", "serve/gunicorn_conf.py", "serve.web.app:create_app()"]

# syntax=docker/dockerfile:1
# Ludex image: `ludex serve` by default (one container, embedded SQLite in /data), and the image
# of every Ray node (head and workers) of the KubeRay RayService in k8s/.
#   docker build -t ghcr.io/ludex/ludex:0.1.0 .
#   docker run --rm -p 8000:8000 --shm-size=2g -v ludex-data:/data ghcr.io/ludex/ludex:0.1.0
# Base images are pinned; bump PYTHON_IMAGE deliberately. Every Python package comes from uv.lock
# with its hash checked (Ray's version there must equal rayVersion in k8s/base/rayservice.yaml).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.10
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PATH=/opt/venv/bin:$PATH
RUN pip install "uv==${UV_VERSION}"
WORKDIR /src
# The dependencies alone, from the lock: Ray is most of the image and this layer is rebuilt only
# when uv.lock changes, not on every code change.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-editable
COPY README.md ./
COPY engine ./engine
COPY actors ./actors
COPY serve ./serve
COPY config ./config
RUN uv sync --locked --no-editable

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="ludex" \
      org.opencontainers.image.description="Ludex game-economy engine (Ray Serve)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    LUDEX_DATA_DIR=/data
# uid 1000, the uid the Kubernetes manifests run as. KubeRay starts Ray through `bash -lc`, whose
# /etc/profile resets PATH: profile.d puts the venv back in front (single quotes on purpose).
# hadolint ignore=SC2016
RUN groupadd --gid 1000 ludex \
    && useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash ludex \
    && mkdir -p /data /app \
    && chown ludex:ludex /data /app \
    && echo 'export PATH=/opt/venv/bin:$PATH' > /etc/profile.d/ludex-venv.sh
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4)"]
CMD ["ludex", "serve", "--host", "0.0.0.0"]

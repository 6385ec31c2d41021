# syntax=docker/dockerfile:1
# HyperEdu: one image for the api (`hyperedu serve`), the relay and the consumers.
# Build: docker build -t hyperedu .   Run: see docker-compose.yml and deploy/k8s/.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/hyperedu
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core core
COPY ingest ingest
COPY lrs lrs
COPY lms lms
COPY bench bench
COPY hyperedu hyperedu
RUN /opt/hyperedu/bin/pip install .

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 hyperedu \
 && useradd --system --uid 10001 --gid hyperedu --home-dir /var/lib/hyperedu --create-home hyperedu
COPY --from=build /opt/hyperedu /opt/hyperedu
# PROMETHEUS_MULTIPROC_DIR: the workers' metric files, kept off the data volume.
ENV PATH=/opt/hyperedu/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HYPEREDU_HOST=0.0.0.0 \
    HYPEREDU_PORT=8080 \
    HYPEREDU_DATA_DIR=/var/lib/hyperedu \
    PROMETHEUS_MULTIPROC_DIR=/tmp/hyperedu-metrics
USER 10001:10001
WORKDIR /var/lib/hyperedu
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HYPEREDU_PORT', '8080'), timeout=2)"]
ENTRYPOINT ["hyperedu"]
CMD ["serve"]

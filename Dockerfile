# syntax=docker/dockerfile:1
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependency layer: only the lock, so code edits do not reinstall the dependencies. Exact versions,
# hashes checked; the project is then built with the locked setuptools, nothing fetched beside it.
COPY requirements/runtime.lock ./requirements/
RUN pip install --require-hashes -r requirements/runtime.lock

COPY pyproject.toml README.md ./
COPY optimizer ./optimizer
COPY api ./api
COPY jobs ./jobs
COPY cli ./cli
RUN pip install --no-deps --no-build-isolation . \
    && useradd --create-home --uid 10001 ppcopt \
    && mkdir -p /data && chown ppcopt /data

USER ppcopt
ENV PPCOPT_DATABASE_URL=sqlite:////data/ppcopt.db
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

ENTRYPOINT ["ppcopt"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

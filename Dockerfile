# edi-bot as a container: `edi-bot serve` on port 3978. See docs/deploy.md.
# Build: docker build -t edi-bot .   Run: docker run -p 3978:3978 --env-file prod.env edi-bot

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY dialogs dialogs
COPY scheduler scheduler
# Wheels for the bot and every dependency, so the runtime image needs no compiler.
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin edi
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels edi-bot && rm -rf /wheels
# The words, menus and card templates are data, read at run time.
COPY content /app/content
RUN mkdir -p /app/var && chown edi /app/var
ENV EDI_HOST=0.0.0.0 \
    EDI_PORT=3978 \
    EDI_CONTENT_DIR=/app/content \
    EDI_LOG_FORMAT=json
USER edi
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('EDI_PORT', '3978'), timeout=4)"]
CMD ["edi-bot", "serve"]

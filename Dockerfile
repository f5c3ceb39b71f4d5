# syntax=docker/dockerfile:1
# The service image: docker build -t polysync-batch .
# Run it with a configuration mounted at /etc/polysync-batch/config.toml (see the README), or
# with -e POLYSYNC_BATCH_CONFIG= for the embedded demo platform.

FROM python:3.11.7-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first, from the lock file only, so code changes reuse this layer.
COPY pyproject.toml uv.lock README.md ./
COPY clients/python/pyproject.toml clients/python/README.md clients/python/
RUN uv sync --frozen --no-dev --no-install-workspace --no-install-project
COPY clients/python/src clients/python/src
COPY server server
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11.7-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin polysync
COPY --from=build /app/.venv /app/.venv
# In a container the server must listen beyond loopback; the embedded emulator never does.
# There it refuses to start without [server.tls] or caller auth ([auth]) in the config, unless
# POLYSYNC_BATCH_SERVER__ALLOW_INSECURE=true (a service mesh terminates TLS): docs/security.md.
ENV PATH=/app/.venv/bin:$PATH \
    POLYSYNC_BATCH_CONFIG=/etc/polysync-batch/config.toml \
    POLYSYNC_BATCH_SERVER__ADDRESS=0.0.0.0:50051
USER 10001
EXPOSE 50051
ENTRYPOINT ["polysync-batch", "serve"]

# Multi-stage build: compile in the Rust image, run as a non-root user in a
# slim image with a health check.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin switchboard

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/switchboard --create-home switchboard
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
USER switchboard
WORKDIR /var/lib/switchboard
# Set SWITCHBOARD_SERVER__BASE_URL (or SWITCHBOARD_SERVER__ALLOWED_HOSTS) to
# the name people reach it by: other Host names are refused (DNS rebinding).
ENV SWITCHBOARD_SERVER__BIND=0.0.0.0 \
    SWITCHBOARD_STORE__DATA_DIR=/var/lib/switchboard/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["switchboard", "healthcheck", "--url", "http://127.0.0.1:8080/livez"]
ENTRYPOINT ["switchboard"]
# Production: mount a config and run `serve --config /etc/switchboard/switchboard.toml`.
CMD ["demo", "--bind", "0.0.0.0", "--data-dir", "/var/lib/switchboard/demo"]

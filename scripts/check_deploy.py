"""Offline checks of deploy/ and the Dockerfile, run by scripts/check-deploy.sh in the test venv.

- deploy/k8s/*.yaml: every document against the Kubernetes API schemas of every version from
  K8S_MIN (the oldest with the features the manifests use) to the newest that the pinned
  kubernetes-validate ships, strictly (unknown fields are errors).
- deploy/aws-batch/*.json: each file against the input shape of the AWS Batch operation it is
  fed to (`aws batch register-job-definition` / `submit-job --cli-input-json`), with botocore's
  own ParamValidator (unknown keys, types, required members, minimums) plus the enum values of
  the service model, which ParamValidator leaves to the server.
- Consistency the schemas cannot see: `Ref::` parameters, job definition names, shard counts,
  the image name (the one the Dockerfile builds, tagged with the workspace version), and the
  Dockerfile's Rust image against rust-toolchain.toml.

Exits 1 after printing every problem found.
"""

import json
import pathlib
import re
import subprocess
import sys
import tomllib

import botocore.session
import kubernetes_validate
import yaml
from botocore.validate import ParamValidator

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"

# Indexed Jobs with backoffLimitPerIndex / maxFailedIndexes and the FailIndex action of
# podFailurePolicy are beta and on by default from Kubernetes 1.29 (alpha and off in 1.28);
# podFailurePolicy itself is GA since 1.31, backoffLimitPerIndex since 1.33.
K8S_MIN = (1, 29)

# Which AWS Batch operation reads each file (see deploy/aws-batch/submit.sh).
BATCH_OPERATIONS = {
    "job-definition.json": "RegisterJobDefinition",
    "commit-job-definition.json": "RegisterJobDefinition",
    "submit-array-job.json": "SubmitJob",
    "submit-commit-job.json": "SubmitJob",
}

problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


def workspace_version() -> str:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    return cargo["workspace"]["package"]["version"]


def shipped_k8s_versions() -> list[str]:
    """The Kubernetes versions whose schemas the installed kubernetes-validate ships."""
    schemas = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    versions = set()
    for d in schemas.iterdir():
        m = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", d.name)
        if m:
            versions.add((int(m.group(1)), int(m.group(2))))
    return [f"{a}.{b}" for a, b in sorted(versions) if (a, b) >= K8S_MIN]


def check_k8s(image: str) -> None:
    manifests = sorted((DEPLOY / "k8s").glob("*.yaml"))
    if not manifests:
        problem("deploy/k8s", "no manifests found")
        return
    versions = shipped_k8s_versions()
    if not versions:
        problem("kubernetes-validate", f"ships no schema of Kubernetes {K8S_MIN} or newer")
        return
    for version in versions:
        run = subprocess.run(
            [sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet",
             "-k", version, *map(str, manifests)],
            capture_output=True, text=True, check=False,
        )
        if run.returncode != 0:
            problem(f"Kubernetes {version}", (run.stdout + run.stderr).strip())
    print(f"deploy/k8s: {len(manifests)} files valid (strict) against Kubernetes "
          f"{', '.join(versions)}" if not any(p.startswith("Kubernetes") for p in problems)
          else "deploy/k8s: schema errors (below)")

    for path in manifests:
        rel = path.relative_to(ROOT)
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "Job":
                continue
            name = f"{rel} job/{doc['metadata']['name']}"
            pod = doc["spec"]["template"]["spec"]
            for c in pod.get("containers", []):
                if c.get("image") != image:
                    problem(name, f"container {c['name']} runs {c.get('image')!r}, "
                                  f"not the image the Dockerfile builds ({image!r})")
                args = c.get("args", [])
                shards = flag_value(args, "--shards")
                spec = doc["spec"]
                if spec.get("completionMode") == "Indexed" and shards is not None \
                        and str(spec.get("completions")) != shards:
                    problem(name, f"completions {spec.get('completions')} != --shards {shards}")
            rules = doc["spec"].get("podFailurePolicy", {}).get("rules", [])
            names = {c["name"] for c in pod.get("containers", [])}
            for i, rule in enumerate(rules):
                cn = rule.get("onExitCodes", {}).get("containerName")
                if cn is not None and cn not in names:
                    problem(name, f"podFailurePolicy.rules[{i}] names container {cn!r}, "
                                  f"which the pod does not have")


def flag_value(args: list, flag: str):
    for i, a in enumerate(args[:-1]):
        if a == flag:
            return str(args[i + 1])
    return None


def enum_problems(value, shape, where: str) -> list[str]:
    """Enum values that ParamValidator does not check (the server would reject them)."""
    out = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for k, v in value.items():
            if k in shape.members:
                out += enum_problems(v, shape.members[k], f"{where}.{k}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, v in enumerate(value):
            out += enum_problems(v, shape.member, f"{where}[{i}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for k, v in value.items():
            out += enum_problems(v, shape.value, f"{where}.{k}")
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        out.append(f"{where}: {value!r} is not one of {shape.enum}")
    return out


def check_batch(image: str) -> None:
    model = botocore.session.get_session().get_service_model("batch")
    validator = ParamValidator()
    files = sorted((DEPLOY / "aws-batch").glob("*.json"))
    unknown = [f.name for f in files if f.name not in BATCH_OPERATIONS]
    for name in unknown:
        problem(f"deploy/aws-batch/{name}", "not in BATCH_OPERATIONS of scripts/check_deploy.py: "
                "say which operation reads it")
    docs = {}
    for name, op in BATCH_OPERATIONS.items():
        path = DEPLOY / "aws-batch" / name
        where = f"deploy/aws-batch/{name}"
        if not path.exists():
            problem(where, "missing")
            continue
        doc = json.loads(path.read_text())
        docs[name] = doc
        shape = model.operation_model(op).input_shape
        report = validator.validate(doc, shape)
        if report.has_errors():
            problem(where, f"{op}: " + report.generate_report().replace("\n", f"\n  {where}: "))
        for p in enum_problems(doc, shape, op):
            problem(where, p)

    definitions = {d["jobDefinitionName"]: (n, d) for n, d in docs.items()
                   if BATCH_OPERATIONS[n] == "RegisterJobDefinition"}
    for name, (fname, d) in definitions.items():
        where = f"deploy/aws-batch/{fname}"
        props = d.get("containerProperties", {})
        if props.get("image") != image:
            problem(where, f"image {props.get('image')!r}, not the image the Dockerfile builds "
                           f"({image!r})")
        params = d.get("parameters", {})
        for arg in props.get("command", []):
            if arg.startswith("Ref::") and arg[len("Ref::"):] not in params:
                problem(where, f"command uses {arg} but parameters has no default for it")
    for fname, d in docs.items():
        if BATCH_OPERATIONS[fname] != "SubmitJob":
            continue
        where = f"deploy/aws-batch/{fname}"
        target = definitions.get(d.get("jobDefinition"))
        if target is None:
            problem(where, f"jobDefinition {d.get('jobDefinition')!r} is none of {sorted(definitions)}")
            continue
        known = target[1].get("parameters", {})
        for k in d.get("parameters", {}):
            if k not in known:
                problem(where, f"parameter {k!r} is not used by {target[0]}")
        size = d.get("arrayProperties", {}).get("size")
        shards = d.get("parameters", {}).get("shards", known.get("shards"))
        if size is not None and str(size) != str(shards):
            problem(where, f"arrayProperties.size {size} != shards parameter {shards}")
    if not any(p.startswith("deploy/aws-batch") for p in problems):
        print(f"deploy/aws-batch: {len(docs)} files valid against botocore {botocore.__version__}'s "
              f"batch model ({model.api_version}): "
              + ", ".join(f"{n} ({op})" for n, op in BATCH_OPERATIONS.items()))


def check_dockerfile() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    channel = tomllib.loads((ROOT / "rust-toolchain.toml").read_text())["toolchain"]["channel"]
    froms = re.findall(r"^FROM\s+rust:(\S+)", dockerfile, flags=re.M)
    if not froms:
        problem("Dockerfile", "no `FROM rust:` build stage")
    for tag in froms:
        if not tag.startswith(channel + "-"):
            problem("Dockerfile", f"builds with rust:{tag}, rust-toolchain.toml says {channel}")
    if not any(p.startswith("Dockerfile") for p in problems):
        print(f"Dockerfile: build stage on the toolchain of rust-toolchain.toml ({channel})")


def main() -> int:
    image = f"sstable-lake:{workspace_version()}"
    check_k8s(image)
    check_batch(image)
    check_dockerfile()
    for p in problems:
        print(f"ERROR {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

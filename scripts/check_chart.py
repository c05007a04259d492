"""`make chart`: lint the Helm chart, render every scenario, validate every manifest.

For each `charts/chargegrid/ci/*-values.yaml` scenario: `helm lint --strict` (with the oldest
supported Kubernetes version, so the chart's kubeVersion constraint is checked too), then
`helm template` (hooks and the test pod included), then every rendered document is validated
against the Kubernetes OpenAPI schemas of the oldest and the newest supported version, strict
(unknown fields are errors), with `kubernetes-validate`. Strimzi KafkaTopic resources, which
those schemas do not know, are checked against the few fields the chart sets. The values
schema must be current (scripts/gen_chart_schema.py). helm comes from scripts/chart_tools.py
(PyPI, cached in .tools/). Exit status 1 on any error.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as `python scripts/check_chart.py`

from scripts import chart_tools, gen_chart_schema  # noqa: E402

CHART = ROOT / "charts" / "chargegrid"
#: Oldest and newest Kubernetes versions the chart supports (Chart.yaml kubeVersion: >=1.29).
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
RELEASE = "chargegrid"
NAMESPACE = "chargegrid"

KAFKA_TOPIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "kafka.strimzi.io/v1beta2"},
        "metadata": {
            "type": "object",
            "required": ["name", "labels"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "labels": {"type": "object", "required": ["strimzi.io/cluster"]},
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["topicName", "partitions", "replicas", "config"],
            "properties": {
                "topicName": {"type": "string"},
                "partitions": {"type": "integer", "minimum": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                "config": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    },
}
CUSTOM_SCHEMAS = {("kafka.strimzi.io/v1beta2", "KafkaTopic"): KAFKA_TOPIC_SCHEMA}


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)


def scenarios() -> list[Path]:
    return sorted((CHART / "ci").glob("*-values.yaml"))


def lint(helm: Path, values: Path) -> list[str]:
    result = run(
        [
            str(helm),
            "lint",
            "--strict",
            "--kube-version",
            KUBERNETES_VERSIONS[0],
            str(CHART),
            "-f",
            str(values),
        ]
    )
    return [] if result.returncode == 0 else [f"helm lint: {result.stdout}{result.stderr}"]


def render(helm: Path, values: Path) -> tuple[list[dict[str, Any]], list[str]]:
    result = run(
        [
            str(helm),
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBERNETES_VERSIONS[-1],
            "-f",
            str(values),
        ]
    )
    if result.returncode != 0:
        return [], [f"helm template: {result.stderr}"]
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return documents, []


def validate(document: dict[str, Any]) -> list[str]:
    kind = f"{document.get('kind')} {document.get('metadata', {}).get('name')}"
    custom = CUSTOM_SCHEMAS.get((document.get("apiVersion", ""), document.get("kind", "")))
    if custom is not None:
        errors = jsonschema.Draft7Validator(custom).iter_errors(document)
        return [f"{kind}: {error.message}" for error in errors]
    problems = []
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{kind} (Kubernetes {version}): {error.message} at {error.path}")
        except Exception as error:  # unknown apiVersion/kind, broken schema
            problems.append(f"{kind} (Kubernetes {version}): {type(error).__name__} {error}")
    return problems


def check_scenario(helm: Path, values: Path) -> list[str]:
    errors = lint(helm, values)
    documents, render_errors = render(helm, values)
    errors += render_errors
    for document in documents:
        errors += validate(document)
    kinds = Counter(str(doc.get("kind")) for doc in documents)
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    status = "ok" if not errors else f"{len(errors)} error(s)"
    print(f"{values.name}: {len(documents)} manifests ({summary}): {status}")
    return errors


def main() -> int:
    errors: list[str] = []
    if gen_chart_schema.render() != gen_chart_schema.SCHEMA_FILE.read_text():
        errors.append("values.schema.json is stale: run `python scripts/gen_chart_schema.py`")
    try:
        helm = chart_tools.ensure_helm()
    except chart_tools.ToolError as tool_error:
        print(f"check_chart: {tool_error}", file=sys.stderr)
        return 1
    print(f"helm {chart_tools.HELM_VERSION}; Kubernetes schemas {', '.join(KUBERNETES_VERSIONS)}")
    for values in scenarios():
        errors += check_scenario(helm, values)
    for error in errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

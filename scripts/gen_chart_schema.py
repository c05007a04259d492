"""Write charts/chargegrid/values.schema.json, or check that the committed one is current.

The schema is built here from small pieces because every component shares one shape (the
`default` block's keys plus its own) and the gateway adds its OCPP keys; written by hand,
the same forty properties would be repeated ten times. Every object refuses unknown keys
(`additionalProperties: false`), so a typo in a values file fails `helm template`/`install`.
`--check` fails when the committed file differs from what this script writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "charts" / "chargegrid" / "values.schema.json"

Schema = dict[str, Any]

COMPONENTS = (
    "gateway",
    "stations",
    "authorization",
    "session",
    "billing",
    "firmware",
    "energy",
    "analytics",
    "roaming",
    "console",
)

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
PORT: Schema = {"type": "integer", "minimum": 1, "maximum": 65535}
OPTIONAL_PORT: Schema = {"type": "integer", "minimum": 0, "maximum": 65535}
COUNT: Schema = {"type": "integer", "minimum": 0}
POSITIVE: Schema = {"type": "integer", "minimum": 1}
SECONDS: Schema = {"type": "number", "minimum": 0}
QUANTITY: Schema = {"type": ["string", "number"]}
FREE_MAP: Schema = {"type": "object"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_LIST: Schema = {"type": "array", "items": {"type": "object"}}
STRING_LIST: Schema = {"type": "array", "items": {"type": "string"}}
SETTINGS: Schema = {
    "type": "object",
    "propertyNames": {"pattern": "^[A-Z_][A-Z0-9_]*$"},
    "additionalProperties": {"type": ["string", "number", "boolean"]},
}
SECRET_NAME: Schema = {"type": "string", "pattern": "^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$"}


def obj(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def enum(*values: object) -> Schema:
    return {"enum": list(values)}


RESOURCES = obj(
    {
        "requests": obj({"cpu": QUANTITY, "memory": QUANTITY, "ephemeral-storage": QUANTITY}),
        "limits": obj({"cpu": QUANTITY, "memory": QUANTITY, "ephemeral-storage": QUANTITY}),
    }
)
PROBE = obj(
    {
        "initialDelaySeconds": COUNT,
        "periodSeconds": POSITIVE,
        "timeoutSeconds": POSITIVE,
        "failureThreshold": POSITIVE,
        "successThreshold": POSITIVE,
    }
)

#: What `default` may set, and so every component too.
POD_PROPERTIES: dict[str, Schema] = {
    "replicas": COUNT,
    "revisionHistoryLimit": COUNT,
    "resources": RESOURCES,
    "podSecurityContext": FREE_MAP,
    "securityContext": FREE_MAP,
    "tmpSizeLimit": QUANTITY,
    "podAnnotations": STRING_MAP,
    "podLabels": STRING_MAP,
    "nodeSelector": STRING_MAP,
    "tolerations": OBJECT_LIST,
    "affinity": FREE_MAP,
    "priorityClassName": STRING,
    "terminationGracePeriodSeconds": COUNT,
    "extraEnv": {
        "type": "array",
        "items": {"type": "object", "required": ["name"], "properties": {"name": STRING}},
    },
    "topologySpread": obj(
        {
            "enabled": BOOLEAN,
            "maxSkew": POSITIVE,
            "whenUnsatisfiable": enum("ScheduleAnyway", "DoNotSchedule"),
            "topologyKeys": STRING_LIST,
        }
    ),
    "autoscaling": obj(
        {
            "enabled": BOOLEAN,
            "minReplicas": POSITIVE,
            "maxReplicas": POSITIVE,
            "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 0, "maximum": 100},
            "metrics": OBJECT_LIST,
        }
    ),
    "podDisruptionBudget": obj({"enabled": BOOLEAN, "maxUnavailable": POSITIVE}),
    "networkPolicy": obj({"enabled": BOOLEAN, "grpcFrom": OBJECT_LIST, "metricsFrom": OBJECT_LIST}),
    "probes": obj({"startup": PROBE, "liveness": PROBE, "readiness": PROBE}),
    "serviceAccount": obj({"create": BOOLEAN, "annotations": STRING_MAP}),
    "service": obj(
        {"type": enum("ClusterIP", "NodePort", "LoadBalancer"), "annotations": STRING_MAP}
    ),
    "config": SETTINGS,
}


def component(name: str) -> Schema:
    properties: dict[str, Schema] = {
        "enabled": BOOLEAN,
        "grpcPort": PORT,
        "metricsPort": PORT,
        "httpPort": OPTIONAL_PORT,
        "uses": {"type": "array", "items": enum(*COMPONENTS), "uniqueItems": True},
        "database": obj({"enabled": BOOLEAN, "existingSecret": SECRET_NAME, "key": STRING}),
        "migrations": obj({"enabled": BOOLEAN}),
        "leaderElection": obj({"enabled": BOOLEAN}),
        **POD_PROPERTIES,
    }
    if name == "stations":
        properties["config"] = {
            **SETTINGS,
            "properties": {
                "CHARGEGRID_STATIONS_UNKNOWN_STATION_POLICY": enum("accept", "pending", "reject")
            },
        }
    if name == "gateway":
        properties.update(
            ocpp=obj(
                {
                    "port": PORT,
                    "path": {"type": "string", "pattern": "^/"},
                    "service": obj(
                        {
                            "type": enum("ClusterIP", "NodePort", "LoadBalancer"),
                            "annotations": STRING_MAP,
                            "externalTrafficPolicy": enum("Cluster", "Local"),
                            "loadBalancerSourceRanges": STRING_LIST,
                        }
                    ),
                }
            ),
            tls=obj(
                {
                    "existingSecret": SECRET_NAME,
                    "ecdsaSecret": SECRET_NAME,
                    "port": PORT,
                    "clientCaSecret": SECRET_NAME,
                    "clientCaKey": STRING,
                    "requireClientCertificate": BOOLEAN,
                }
            ),
            requireBasicAuth=BOOLEAN,
            stationCredentials=obj({"existingSecret": SECRET_NAME, "key": STRING}),
            drain=obj(
                {
                    "timeoutSeconds": SECONDS,
                    "ratePerSecond": {"type": "number", "exclusiveMinimum": 0},
                    "preStopSleepSeconds": COUNT,
                }
            ),
            ingress=obj(
                {
                    "enabled": BOOLEAN,
                    "className": STRING,
                    "host": STRING,
                    "tlsSecret": SECRET_NAME,
                    "annotations": STRING_MAP,
                }
            ),
        )
    return obj(properties, required=("enabled", "grpcPort", "metricsPort"))


TOPIC = obj(
    {
        "name": {"type": "string", "pattern": "^[a-z0-9._-]+$"},
        "partitions": COUNT,
        "retentionMs": {"type": "integer", "minimum": -1},
        "cleanupPolicy": enum("delete", "compact", "compact,delete"),
        "dlq": BOOLEAN,
    },
    required=("name",),
)

KAFKA = obj(
    {
        "bootstrapServers": {"type": "string", "minLength": 1},
        "securityProtocol": enum("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
        "idempotence": BOOLEAN,
        "partitions": POSITIVE,
        "replicationFactor": POSITIVE,
        "sasl": obj(
            {
                "mechanism": enum("", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
                "existingSecret": SECRET_NAME,
                "usernameKey": STRING,
                "passwordKey": STRING,
            }
        ),
        "tls": obj({"caSecret": SECRET_NAME, "caKey": STRING}),
        "topicJob": obj(
            {"enabled": BOOLEAN, "backoffLimit": COUNT, "activeDeadlineSeconds": POSITIVE}
        ),
        "strimziTopics": obj({"enabled": BOOLEAN, "clusterName": STRING, "namespace": STRING}),
        "topics": {"type": "array", "items": TOPIC},
    },
    required=("bootstrapServers",),
)


def schema() -> Schema:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "ChargeGrid Helm values",
        "description": "Generated by scripts/gen_chart_schema.py; edit that, not this file.",
        **obj(
            {
                "nameOverride": STRING,
                "fullnameOverride": STRING,
                "image": obj(
                    {
                        "repository": {"type": "string", "minLength": 1},
                        "tag": STRING,
                        "pullPolicy": enum("Always", "IfNotPresent", "Never"),
                    }
                ),
                "imagePullSecrets": {"type": "array", "items": SECRET_NAME},
                "config": SETTINGS,
                "kafka": KAFKA,
                "apiTokens": obj({"existingSecret": SECRET_NAME, "key": STRING}),
                "serviceToken": obj({"existingSecret": SECRET_NAME, "key": STRING}),
                "tools": obj(
                    {"imageName": {"type": "string", "minLength": 1}, "resources": RESOURCES}
                ),
                "tests": obj(
                    {
                        "enabled": BOOLEAN,
                        "stations": POSITIVE,
                        "durationSeconds": POSITIVE,
                        "ocppVersion": enum("1.6", "2.0.1", "2.1"),
                        "passwordSecret": SECRET_NAME,
                        "passwordKey": STRING,
                    }
                ),
                "default": obj(POD_PROPERTIES),
                "components": obj({name: component(name) for name in COMPONENTS}),
                # Helm passes `global` to every chart; allow it so the chart can be a subchart.
                "global": FREE_MAP,
            },
            required=("image", "kafka", "default", "components"),
        ),
    }


def render() -> str:
    return json.dumps(schema(), indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text() != text:
            print(f"{SCHEMA_FILE.relative_to(ROOT)} is stale: run scripts/gen_chart_schema.py")
            return 1
        return 0
    SCHEMA_FILE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

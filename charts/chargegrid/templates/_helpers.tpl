{{/*
Names, labels, the merge of `default` with a component, and the environment every
container of the chart shares. Templates loop over `chargegrid.enabledComponents`, so
enabling a service is a values change.
*/}}

{{- define "chargegrid.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "chargegrid.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a component's resources: <fullname>-<component>. Args: (list $ "gateway") */}}
{{- define "chargegrid.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "chargegrid.fullname" $root | trunc 50 | trimSuffix "-") (index . 1) -}}
{{- end -}}

{{- define "chargegrid.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of the release (no component). */}}
{{- define "chargegrid.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "chargegrid.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "chargegrid.commonLabels" -}}
helm.sh/chart: {{ include "chargegrid.chart" . }}
{{ include "chargegrid.releaseSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chargegrid
{{- end -}}

{{/* Selector labels of one component. Args: (list $ "gateway") */}}
{{- define "chargegrid.selectorLabels" -}}
{{ include "chargegrid.releaseSelectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* All labels of one component. Args: (list $ "gateway") */}}
{{- define "chargegrid.labels" -}}
{{ include "chargegrid.commonLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/*
Deep merge of `src` into `dst`, in place: maps merge key by key, anything else (lists,
false, 0, "") replaces. Sprig's merge/mergeOverwrite cannot override with false or 0.
Args: (list dst src)
*/}}
{{- define "chargegrid.mergeInto" -}}
{{- $dst := index . 0 -}}
{{- range $key, $value := index . 1 -}}
{{- if and (kindIs "map" $value) (kindIs "map" (get $dst $key)) -}}
{{- include "chargegrid.mergeInto" (list (get $dst $key) $value) -}}
{{- else -}}
{{- $_ := set $dst $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* One component: `default` with the component's values merged over it, plus `name`, as YAML.
Args: (list $ "gateway") */}}
{{- define "chargegrid.component" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $merged := deepCopy $root.Values.default -}}
{{- include "chargegrid.mergeInto" (list $merged (deepCopy (index $root.Values.components $name))) -}}
{{- $_ := set $merged "name" $name -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* Names of the enabled components, sorted, as a YAML list under `names`. */}}
{{- define "chargegrid.enabledComponents" -}}
{{- $names := list -}}
{{- range $name, $component := .Values.components -}}
{{- if $component.enabled -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "names" (sortAlpha $names)) -}}
{{- end -}}

{{- define "chargegrid.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* Image of a service. Args: (list $ "gateway") */}}
{{- define "chargegrid.image" -}}
{{- $root := index . 0 -}}
{{- printf "%s/chargegrid-%s:%s" $root.Values.image.repository (index . 1) (include "chargegrid.imageTag" $root) -}}
{{- end -}}

{{- define "chargegrid.toolsImage" -}}
{{- printf "%s/%s:%s" .Values.image.repository .Values.tools.imageName (include "chargegrid.imageTag" .) -}}
{{- end -}}

{{/* CHARGEGRID_<SERVICE>_ prefix of a component. Args: "gateway" */}}
{{- define "chargegrid.envPrefix" -}}
{{- printf "CHARGEGRID_%s_" (. | upper | replace "-" "_") -}}
{{- end -}}

{{- define "chargegrid.serviceAccountName" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- if $c.serviceAccount.create -}}
{{- include "chargegrid.componentName" (list $root $c.name) -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{/* Paths where Secrets are mounted in every container. */}}
{{- define "chargegrid.paths.tokens" -}}/etc/chargegrid/tokens{{- end -}}
{{- define "chargegrid.paths.kafkaCa" -}}/etc/chargegrid/kafka-ca{{- end -}}
{{- define "chargegrid.paths.tls" -}}/etc/chargegrid/tls{{- end -}}
{{- define "chargegrid.paths.tlsEcdsa" -}}/etc/chargegrid/tls-ecdsa{{- end -}}
{{- define "chargegrid.paths.clientCa" -}}/etc/chargegrid/tls-client-ca{{- end -}}
{{- define "chargegrid.paths.stationCredentials" -}}/etc/chargegrid/station-credentials{{- end -}}

{{/* Settings every service shares (the common ConfigMap), as a YAML map. */}}
{{- define "chargegrid.commonConfig" -}}
{{- $k := .Values.kafka -}}
{{- $data := dict
  "KAFKA_BOOTSTRAP_SERVERS" $k.bootstrapServers
  "CHARGEGRID_KAFKA_SECURITY_PROTOCOL" $k.securityProtocol
  "CHARGEGRID_KAFKA_IDEMPOTENCE" (toString $k.idempotence)
  "CHARGEGRID_KAFKA_TOPIC_PARTITIONS" (toString (int $k.partitions))
  "CHARGEGRID_KAFKA_REPLICATION_FACTOR" (toString (int $k.replicationFactor))
  "CHARGEGRID_VAR_DIR" "/tmp/chargegrid"
  "CHARGEGRID_LEADER_LEASE_PREFIX" (include "chargegrid.fullname" .)
-}}
{{- if $k.sasl.mechanism -}}
{{- $_ := set $data "CHARGEGRID_KAFKA_SASL_MECHANISM" $k.sasl.mechanism -}}
{{- end -}}
{{- if $k.tls.caSecret -}}
{{- $_ := set $data "SSL_CERT_FILE" (printf "%s/%s" (include "chargegrid.paths.kafkaCa" .) $k.tls.caKey) -}}
{{- end -}}
{{- if .Values.apiTokens.existingSecret -}}
{{- $_ := set $data "CHARGEGRID_API_TOKENS_FILE" (printf "%s/%s" (include "chargegrid.paths.tokens" .) .Values.apiTokens.key) -}}
{{- end -}}
{{- range $key, $value := .Values.config -}}
{{- $_ := set $data $key (toString $value) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* Settings of one component (its ConfigMap), as a YAML map. Args: (list $ component) */}}
{{- define "chargegrid.componentConfig" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- $p := include "chargegrid.envPrefix" $c.name -}}
{{- $data := dict
  (print $p "GRPC_PORT") (toString (int $c.grpcPort))
  (print $p "METRICS_PORT") (toString (int $c.metricsPort))
-}}
{{- if $c.httpPort -}}
{{- $_ := set $data (print $p "HTTP_PORT") (toString (int $c.httpPort)) -}}
{{- end -}}
{{- range $used := $c.uses -}}
{{- $other := index $root.Values.components $used -}}
{{- if $other.enabled -}}
{{- $_ := set $data (printf "%s%s_ADDRESS" $p (upper $used)) (printf "%s:%d" (include "chargegrid.componentName" (list $root $used)) (int $other.grpcPort)) -}}
{{- end -}}
{{- end -}}
{{- if eq $c.name "gateway" -}}
{{- $_ := set $data (print $p "OCPP_PORT") (toString (int $c.ocpp.port)) -}}
{{- $_ := set $data (print $p "PATH_PREFIX") $c.ocpp.path -}}
{{- $_ := set $data (print $p "DRAIN_TIMEOUT_S") (toString $c.drain.timeoutSeconds) -}}
{{- $_ := set $data (print $p "DRAIN_RATE_PER_S") (toString $c.drain.ratePerSecond) -}}
{{- $_ := set $data (print $p "REQUIRE_BASIC_AUTH") (toString $c.requireBasicAuth) -}}
{{- if $c.tls.existingSecret -}}
{{- $_ := set $data (print $p "TLS_PORT") (toString (int $c.tls.port)) -}}
{{- $_ := set $data (print $p "TLS_CERT_FILE") (printf "%s/tls.crt" (include "chargegrid.paths.tls" $root)) -}}
{{- $_ := set $data (print $p "TLS_KEY_FILE") (printf "%s/tls.key" (include "chargegrid.paths.tls" $root)) -}}
{{- if $c.tls.ecdsaSecret -}}
{{- $_ := set $data (print $p "TLS_ECDSA_CERT_FILE") (printf "%s/tls.crt" (include "chargegrid.paths.tlsEcdsa" $root)) -}}
{{- $_ := set $data (print $p "TLS_ECDSA_KEY_FILE") (printf "%s/tls.key" (include "chargegrid.paths.tlsEcdsa" $root)) -}}
{{- end -}}
{{- if $c.tls.clientCaSecret -}}
{{- $_ := set $data (print $p "TLS_CLIENT_CA_FILE") (printf "%s/%s" (include "chargegrid.paths.clientCa" $root) $c.tls.clientCaKey) -}}
{{- $_ := set $data (print $p "TLS_REQUIRE_CLIENT_CERTIFICATE") (toString $c.tls.requireClientCertificate) -}}
{{- end -}}
{{- end -}}
{{- if $c.stationCredentials.existingSecret -}}
{{- $_ := set $data (print $p "STATION_CREDENTIALS_FILE") (printf "%s/%s" (include "chargegrid.paths.stationCredentials" $root) $c.stationCredentials.key) -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := $c.config -}}
{{- $_ := set $data $key (toString $value) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/*
Environment variables that are not plain settings: the pod's identity from the downward API
and every secret, always as secretKeyRef. Args: (list $ component)
*/}}
{{- define "chargegrid.env" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- $p := include "chargegrid.envPrefix" $c.name -}}
- name: CHARGEGRID_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: CHARGEGRID_LEADER_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- if eq $c.name "gateway" }}
- name: {{ $p }}ADVERTISED_GRPC_ADDRESS
  value: "$(POD_IP):{{ int $c.grpcPort }}"
{{- end }}
{{- if $c.database.enabled }}
- name: {{ $p }}DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "components.%s.database.existingSecret is required (a Secret with the DATABASE_URL)" $c.name) $c.database.existingSecret }}
      key: {{ $c.database.key }}
{{- end }}
{{- with $root.Values.serviceToken }}
{{- if .existingSecret }}
- name: CHARGEGRID_SERVICE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- include "chargegrid.kafkaSecretEnv" $root }}
{{- end -}}

{{- define "chargegrid.kafkaSecretEnv" -}}
{{- with .Values.kafka.sasl }}
{{- if .mechanism }}
- name: CHARGEGRID_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required when kafka.sasl.mechanism is set" .existingSecret }}
      key: {{ .usernameKey }}
- name: CHARGEGRID_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A YAML map rendered as an env list (for hook Jobs, which run before any ConfigMap exists). */}}
{{- define "chargegrid.envFromMap" -}}
{{- range $key, $value := . }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Volumes for Secrets every container may need. Args: (list $ component) */}}
{{- define "chargegrid.secretVolumes" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- if $root.Values.apiTokens.existingSecret }}
- name: api-tokens
  secret:
    secretName: {{ $root.Values.apiTokens.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if $root.Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $root.Values.kafka.tls.caSecret }}
    defaultMode: 0444
{{- end }}
{{- if eq $c.name "gateway" }}
{{- if $c.tls.existingSecret }}
- name: tls
  secret:
    secretName: {{ $c.tls.existingSecret }}
    defaultMode: 0440
{{- if $c.tls.ecdsaSecret }}
- name: tls-ecdsa
  secret:
    secretName: {{ $c.tls.ecdsaSecret }}
    defaultMode: 0440
{{- end }}
{{- if $c.tls.clientCaSecret }}
- name: tls-client-ca
  secret:
    secretName: {{ $c.tls.clientCaSecret }}
    defaultMode: 0444
{{- end }}
{{- end }}
{{- if $c.stationCredentials.existingSecret }}
- name: station-credentials
  secret:
    secretName: {{ $c.stationCredentials.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end }}
{{- end -}}

{{- define "chargegrid.secretVolumeMounts" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- if $root.Values.apiTokens.existingSecret }}
- name: api-tokens
  mountPath: {{ include "chargegrid.paths.tokens" $root }}
  readOnly: true
{{- end }}
{{- if $root.Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: {{ include "chargegrid.paths.kafkaCa" $root }}
  readOnly: true
{{- end }}
{{- if eq $c.name "gateway" }}
{{- if $c.tls.existingSecret }}
- name: tls
  mountPath: {{ include "chargegrid.paths.tls" $root }}
  readOnly: true
{{- if $c.tls.ecdsaSecret }}
- name: tls-ecdsa
  mountPath: {{ include "chargegrid.paths.tlsEcdsa" $root }}
  readOnly: true
{{- end }}
{{- if $c.tls.clientCaSecret }}
- name: tls-client-ca
  mountPath: {{ include "chargegrid.paths.clientCa" $root }}
  readOnly: true
{{- end }}
{{- end }}
{{- if $c.stationCredentials.existingSecret }}
- name: station-credentials
  mountPath: {{ include "chargegrid.paths.stationCredentials" $root }}
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{/* Refuse combinations the schema cannot express. */}}
{{- define "chargegrid.validate" -}}
{{- range $name, $component := .Values.components -}}
{{- range $used := $component.uses -}}
{{- if not (hasKey $.Values.components $used) -}}
{{- fail (printf "components.%s.uses: %q is not a component" $name $used) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $gateway := include "chargegrid.component" (list . "gateway") | fromYaml -}}
{{- if $gateway.enabled -}}
{{- $needed := add (int $gateway.drain.timeoutSeconds) (int $gateway.drain.preStopSleepSeconds) -}}
{{- if le (int $gateway.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "components.gateway.terminationGracePeriodSeconds (%d) must exceed drain.timeoutSeconds + drain.preStopSleepSeconds (%d)" (int $gateway.terminationGracePeriodSeconds) (int $needed)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

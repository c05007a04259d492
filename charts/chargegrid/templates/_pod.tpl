{{/*
The pod template of a component's Deployment: one container running
`python -m chargegrid.<name>` (the image's entrypoint), configuration from the shared and the
component's ConfigMap, secrets by reference, probes on gRPC health, a writable /tmp only.
Args: (list $ component)
*/}}
{{- define "chargegrid.podTemplate" -}}
{{- $root := index . 0 -}}
{{- $c := index . 1 -}}
{{- $isGateway := eq $c.name "gateway" -}}
metadata:
  labels:
    {{- include "chargegrid.labels" (list $root $c.name) | nindent 4 }}
    {{- with $c.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ printf "%s%s" (include "chargegrid.commonConfig" $root) (include "chargegrid.componentConfig" (list $root $c)) | sha256sum }}
    {{- with $c.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "chargegrid.serviceAccountName" (list $root $c) }}
  # Only pods that elect a leader talk to the Kubernetes API.
  automountServiceAccountToken: {{ $c.leaderElection.enabled }}
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ int $c.terminationGracePeriodSeconds }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  {{- with $c.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml $c.podSecurityContext | nindent 4 }}
  {{- if $c.topologySpread.enabled }}
  topologySpreadConstraints:
    {{- range $key := $c.topologySpread.topologyKeys }}
    - maxSkew: {{ int $c.topologySpread.maxSkew }}
      topologyKey: {{ $key }}
      whenUnsatisfiable: {{ $c.topologySpread.whenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "chargegrid.selectorLabels" (list $root $c.name) | nindent 10 }}
      matchLabelKeys:
        - pod-template-hash
    {{- end }}
  {{- end }}
  {{- with $c.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ $c.name }}
      image: {{ include "chargegrid.image" (list $root $c.name) }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      ports:
        - name: grpc
          containerPort: {{ int $c.grpcPort }}
          protocol: TCP
        - name: metrics
          containerPort: {{ int $c.metricsPort }}
          protocol: TCP
        {{- if $c.httpPort }}
        - name: http
          containerPort: {{ int $c.httpPort }}
          protocol: TCP
        {{- end }}
        {{- if $isGateway }}
        - name: ocpp
          containerPort: {{ int $c.ocpp.port }}
          protocol: TCP
        {{- if $c.tls.existingSecret }}
        - name: ocpp-tls
          containerPort: {{ int $c.tls.port }}
          protocol: TCP
        {{- end }}
        {{- end }}
      envFrom:
        - configMapRef:
            name: {{ include "chargegrid.fullname" $root }}-common
        - configMapRef:
            name: {{ include "chargegrid.componentName" (list $root $c.name) }}
      env:
        {{- include "chargegrid.env" (list $root $c) | nindent 8 }}
        {{- with $c.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      startupProbe:
        grpc:
          port: {{ int $c.grpcPort }}
        {{- toYaml $c.probes.startup | nindent 8 }}
      livenessProbe:
        grpc:
          port: {{ int $c.grpcPort }}
        {{- toYaml $c.probes.liveness | nindent 8 }}
      readinessProbe:
        grpc:
          port: {{ int $c.grpcPort }}
        {{- toYaml $c.probes.readiness | nindent 8 }}
      {{- if and $isGateway $c.drain.preStopSleepSeconds }}
      lifecycle:
        preStop:
          # Endpoints and load balancers drop the pod before the gateway's own drain starts.
          exec:
            command: ["sleep", "{{ int $c.drain.preStopSleepSeconds }}"]
      {{- end }}
      resources:
        {{- toYaml $c.resources | nindent 8 }}
      securityContext:
        {{- toYaml $c.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- with include "chargegrid.secretVolumeMounts" (list $root $c) | trim }}{{ . | nindent 8 }}{{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $c.tmpSizeLimit }}
    {{- with include "chargegrid.secretVolumes" (list $root $c) | trim }}{{ . | nindent 4 }}{{- end }}
{{- end -}}

{{/*
The pod spec of a hook Job (migrations, topics): same security, no ConfigMaps (hooks run
before them), settings as plain env. Args: (dict "root" $ "component" c "image" i "command" list "config" map)
*/}}
{{- define "chargegrid.hookPodSpec" -}}
{{- $root := .root -}}
{{- $c := .component -}}
restartPolicy: Never
automountServiceAccountToken: false
enableServiceLinks: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.default.podSecurityContext | nindent 2 }}
containers:
  - name: {{ .containerName }}
    image: {{ .image }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    command:
      {{- toYaml .command | nindent 6 }}
    env:
      {{- with include "chargegrid.envFromMap" .config | trim }}{{ . | nindent 6 }}{{- end }}
      {{- include "chargegrid.env" (list $root $c) | nindent 6 }}
    resources:
      {{- toYaml $root.Values.tools.resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.default.securityContext | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
      {{- with include "chargegrid.secretVolumeMounts" (list $root $c) | trim }}{{ . | nindent 6 }}{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ $root.Values.default.tmpSizeLimit }}
  {{- with include "chargegrid.secretVolumes" (list $root $c) | trim }}{{ . | nindent 2 }}{{- end }}
{{- end -}}

{{/* Names */}}
{{- define "nexuslog.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nexuslog.fullname" -}}
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

{{/* <fullname>-<component>, shortened to fit DNS labels (a StatefulSet pod adds "-NN"). */}}
{{- define "nexuslog.componentName" -}}
{{- printf "%s-%s" (include "nexuslog.fullname" .root | trunc 45 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "nexuslog.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nexuslog.labels" -}}
helm.sh/chart: {{ include "nexuslog.chart" . }}
app.kubernetes.io/name: {{ include "nexuslog.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nexuslog
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component: (dict "root" $ "component" "gateway") */}}
{{- define "nexuslog.componentLabels" -}}
{{ include "nexuslog.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "nexuslog.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nexuslog.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "nexuslog.annotations" -}}
{{- with .Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "nexuslog.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nexuslog.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nexuslog.image" -}}
{{- $repo := printf "%s/%s" .Values.image.registry .Values.image.repository | trimPrefix "/" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "nexuslog.secretName" -}}
{{- include "nexuslog.fullname" . -}}
{{- end -}}

{{- define "nexuslog.configMapName" -}}
{{- printf "%s-config" (include "nexuslog.fullname" .) -}}
{{- end -}}

{{/* A pod setting of a role, or podDefaults' when the role does not set it:
     (dict "root" $ "role" $roleValues "key" "nodeSelector") */}}
{{- define "nexuslog.podSetting" -}}
{{- if hasKey .role .key -}}
{{- toYaml (get .role .key) -}}
{{- else -}}
{{- toYaml (get .root.Values.podDefaults .key) -}}
{{- end -}}
{{- end -}}

{{/* Whether the chart's own Secret holds a key. */}}
{{- define "nexuslog.ownsBootstrap" -}}
{{- if not .Values.bootstrap.existingSecret }}true{{ end -}}
{{- end -}}

{{/* The public URL used in notifications. */}}
{{- define "nexuslog.publicUrl" -}}
{{- if .Values.alerting.publicUrl -}}
{{- .Values.alerting.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) .Values.ingress.host -}}
{{- else if and .Values.httpRoute.enabled .Values.httpRoute.hostnames -}}
{{- printf "https://%s" (first .Values.httpRoute.hostnames) -}}
{{- else if eq .Values.mode "standalone" -}}
{{- printf "http://%s.%s.svc:%v" (include "nexuslog.componentName" (dict "root" . "component" "standalone")) .Release.Namespace .Values.standalone.service.port -}}
{{- else -}}
{{- printf "http://%s.%s.svc:%v" (include "nexuslog.componentName" (dict "root" . "component" "api")) .Release.Namespace .Values.api.service.port -}}
{{- end -}}
{{- end -}}

{{/* Container ports of the syslog listeners (non-root processes cannot bind below 1024). */}}
{{- define "nexuslog.syslogPorts" -}}
tcp: 1601
udp: 1514
tls: 6514
{{- end -}}

{{/* Secrets holding the CAs and client certificates of backend connections (distributed mode),
     as a YAML list of {name, secret, dir}: each is mounted at its dir, and the configuration
     points at the files inside. */}}
{{- define "nexuslog.backendTlsSecrets" -}}
{{- $v := .Values -}}
{{- $out := list -}}
{{- if eq $v.mode "distributed" -}}
{{- range $name, $secret := dict "kafka-ca" $v.kafka.tls.caSecret "kafka-client" $v.kafka.tls.clientCertSecret "opensearch-ca" $v.opensearch.tls.caSecret "opensearch-client" $v.opensearch.tls.clientCertSecret "postgresql-ca" $v.postgresql.tls.caSecret "redis-ca" $v.redis.caSecret "registry-ca" $v.schemaRegistry.caSecret -}}
{{- if $secret -}}
{{- $out = append $out (dict "name" (printf "tls-%s" $name) "secret" $secret "dir" (printf "/etc/nexuslog/backend-tls/%s" $name)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The TOML configuration file (non-secret settings). */}}
{{- define "nexuslog.configToml" -}}
{{- $v := .Values -}}
{{- $ports := include "nexuslog.syslogPorts" . | fromYaml -}}
{{- $c := dict
  "data_dir" "/var/lib/nexuslog"
  "http" (dict "addr" "0.0.0.0:8000")
  "log" (dict "level" $v.log.level "format" $v.log.format)
  "alerting" (dict "public_url" (include "nexuslog.publicUrl" .) "allow_private_targets" $v.alerting.allowPrivateTargets
      "smtp" (dict "host" $v.alerting.smtp.host "port" (int $v.alerting.smtp.port) "tls" $v.alerting.smtp.tls "user" $v.alerting.smtp.user "from" $v.alerting.smtp.from))
-}}
{{- if eq $v.mode "distributed" -}}
{{- $kafka := dict "brokers" $v.kafka.brokers "partitions" (int $v.kafka.partitions) "replication_factor" (int $v.kafka.replicationFactor) -}}
{{- $_ := set $kafka "security_protocol" (printf "%s%s" (ternary "sasl_" "" $v.kafka.sasl.enabled) (ternary "ssl" "plaintext" $v.kafka.tls.enabled)) -}}
{{- if $v.kafka.sasl.enabled -}}
{{- $_ := set $kafka "sasl_mechanism" $v.kafka.sasl.mechanism -}}
{{- $_ := set $kafka "sasl_username" (required "kafka.sasl.username is required with kafka.sasl.enabled" $v.kafka.sasl.username) -}}
{{- end -}}
{{- if $v.kafka.tls.caSecret }}{{ $_ := set $kafka "tls_ca" (printf "/etc/nexuslog/backend-tls/kafka-ca/%s" $v.kafka.tls.caKey) }}{{ end -}}
{{- if $v.kafka.tls.clientCertSecret }}{{ $_ := set $kafka "tls_cert" "/etc/nexuslog/backend-tls/kafka-client/tls.crt" }}{{ $_ := set $kafka "tls_key" "/etc/nexuslog/backend-tls/kafka-client/tls.key" }}{{ end -}}
{{- if $v.kafka.properties }}{{ $_ := set $kafka "properties" $v.kafka.properties }}{{ end -}}
{{- $_ := set $c "bus" (dict "kind" "kafka" "topic_prefix" $v.kafka.topicPrefix "kafka" $kafka) -}}
{{- $os := dict "url" $v.opensearch.url "username" $v.opensearch.username "tls_verify" $v.opensearch.tls.verify -}}
{{- if $v.opensearch.tls.caSecret }}{{ $_ := set $os "tls_ca" (printf "/etc/nexuslog/backend-tls/opensearch-ca/%s" $v.opensearch.tls.caKey) }}{{ end -}}
{{- if $v.opensearch.tls.clientCertSecret }}{{ $_ := set $os "tls_cert" "/etc/nexuslog/backend-tls/opensearch-client/tls.crt" }}{{ $_ := set $os "tls_key" "/etc/nexuslog/backend-tls/opensearch-client/tls.key" }}{{ end -}}
{{- $_ := set $c "logstore" (dict "kind" "opensearch" "index_prefix" $v.opensearch.indexPrefix "retention_days" (int $v.opensearch.retentionDays) "opensearch" $os) -}}
{{- $pg := dict "pool_size" (int $v.postgresql.poolSize) "sslmode" $v.postgresql.sslmode -}}
{{- if $v.postgresql.tls.caSecret }}{{ $_ := set $pg "tls_ca" (printf "/etc/nexuslog/backend-tls/postgresql-ca/%s" $v.postgresql.tls.caKey) }}{{ end -}}
{{- $_ := set $c "metastore" (dict "kind" "postgres" "postgres" $pg) -}}
{{- $redis := dict -}}
{{- if $v.redis.caSecret }}{{ $_ := set $redis "tls_ca" (printf "/etc/nexuslog/backend-tls/redis-ca/%s" $v.redis.caKey) }}{{ end -}}
{{- $_ := set $c "state" (dict "kind" "redis" "redis" $redis) -}}
{{- $registry := dict "url" $v.schemaRegistry.url -}}
{{- if $v.schemaRegistry.caSecret }}{{ $_ := set $registry "tls_ca" (printf "/etc/nexuslog/backend-tls/registry-ca/%s" $v.schemaRegistry.caKey) }}{{ end -}}
{{- $_ := set $c "schema_registry" $registry -}}
{{- end -}}
{{- $_ := set $c "secrets" (dict "key_file" "/etc/nexuslog/secrets/secrets.key") -}}
{{- if $v.https.enabled -}}
{{- $_ := set $c.http "tls_cert" "/etc/nexuslog/https/tls.crt" -}}
{{- $_ := set $c.http "tls_key" "/etc/nexuslog/https/tls.key" -}}
{{- if $v.https.clientCaSecret }}{{ $_ := set $c.http "tls_client_ca" "/etc/nexuslog/https-ca/ca.crt" }}{{ end -}}
{{- end -}}
{{- if $v.otlpGrpc.enabled -}}
{{- $_ := set $c.http "otlp_grpc_addr" (printf "0.0.0.0:%v" $v.otlpGrpc.port) -}}
{{- end -}}
{{- if $v.syslog.enabled -}}
{{- $s := dict "default_project" $v.syslog.defaultProject -}}
{{- if $v.syslog.tcp.enabled }}{{ $_ := set $s "tcp_addr" (printf "0.0.0.0:%v" $ports.tcp) }}{{ end -}}
{{- if $v.syslog.udp.enabled }}{{ $_ := set $s "udp_addr" (printf "0.0.0.0:%v" $ports.udp) }}{{ end -}}
{{- if $v.syslog.tls.enabled -}}
{{- $_ := set $s "tls_addr" (printf "0.0.0.0:%v" $ports.tls) -}}
{{- $_ := set $s "tls_cert" "/etc/nexuslog/syslog-tls/tls.crt" -}}
{{- $_ := set $s "tls_key" "/etc/nexuslog/syslog-tls/tls.key" -}}
{{- if $v.syslog.tls.clientCaSecret }}{{ $_ := set $s "tls_client_ca" "/etc/nexuslog/syslog-ca/ca.crt" }}{{ end -}}
{{- end -}}
{{- $_ := set $c "syslog" $s -}}
{{- end -}}
{{- $merged := mergeOverwrite $c (deepCopy $v.config) -}}
{{- toToml $merged -}}
{{- end -}}

{{/* Environment of a NexusLog container: (dict "root" $ "role" $roleValues) */}}
{{- define "nexuslog.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $secret := include "nexuslog.secretName" $root -}}
- name: NEXUSLOG_CONFIG
  value: /etc/nexuslog/nexuslog.toml
# A stable name per replica: Kafka transactional ids and per-instance groups derive from it.
- name: NEXUSLOG_BUS_KAFKA_INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: NEXUSLOG_BOOTSTRAP_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default $secret $v.bootstrap.existingSecret }}
      key: {{ ternary $v.bootstrap.existingSecretApiKeyKey "bootstrap-api-key" (ne $v.bootstrap.existingSecret "") }}
- name: NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default $secret $v.bootstrap.existingSecret }}
      key: {{ ternary $v.bootstrap.existingSecretAdminPasswordKey "bootstrap-admin-password" (ne $v.bootstrap.existingSecret "") }}
{{- if or $v.auth.jwtSecret $v.auth.existingSecret }}
- name: NEXUSLOG_AUTH_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ default $secret $v.auth.existingSecret }}
      key: {{ ternary $v.auth.existingSecretKey "jwt-secret" (ne $v.auth.existingSecret "") }}
{{- end }}
{{- if or $v.alerting.smtp.password $v.alerting.smtp.existingSecret }}
- name: NEXUSLOG_ALERTING_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default $secret $v.alerting.smtp.existingSecret }}
      key: {{ ternary $v.alerting.smtp.existingSecretPasswordKey "smtp-password" (ne $v.alerting.smtp.existingSecret "") }}
{{- end }}
{{- if eq $v.mode "distributed" }}
{{- if and $v.kafka.sasl.enabled (or $v.kafka.sasl.password $v.kafka.sasl.existingSecret) }}
- name: NEXUSLOG_BUS_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default $secret $v.kafka.sasl.existingSecret }}
      key: {{ ternary $v.kafka.sasl.existingSecretPasswordKey "kafka-sasl-password" (ne $v.kafka.sasl.existingSecret "") }}
{{- end }}
{{- if or $v.opensearch.password $v.opensearch.existingSecret }}
- name: NEXUSLOG_LOGSTORE_OPENSEARCH_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default $secret $v.opensearch.existingSecret }}
      key: {{ ternary $v.opensearch.existingSecretPasswordKey "opensearch-password" (ne $v.opensearch.existingSecret "") }}
{{- end }}
{{- $pg := $v.postgresql }}
{{- if and $pg.existingSecret $pg.existingSecretUrlKey }}
- name: NEXUSLOG_METASTORE_POSTGRES_URL
  valueFrom:
    secretKeyRef:
      name: {{ $pg.existingSecret }}
      key: {{ $pg.existingSecretUrlKey }}
{{- else if $pg.existingSecret }}
# Kubernetes expands $(NL_POSTGRES_PASSWORD) from the variable above it.
- name: NL_POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $pg.existingSecret }}
      key: {{ $pg.existingSecretPasswordKey }}
- name: NEXUSLOG_METASTORE_POSTGRES_URL
  value: {{ printf "postgres://%s:$(NL_POSTGRES_PASSWORD)@%s:%v/%s%s" $pg.username $pg.host $pg.port $pg.database (ternary (printf "?%s" $pg.parameters) "" (ne $pg.parameters "")) | quote }}
{{- else }}
- name: NEXUSLOG_METASTORE_POSTGRES_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: postgres-url
{{- end }}
{{- $r := $v.redis }}
{{- if and $r.existingSecret $r.existingSecretUrlKey }}
- name: NEXUSLOG_STATE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.existingSecretUrlKey }}
{{- else if $r.existingSecret }}
- name: NL_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.existingSecretPasswordKey }}
- name: NEXUSLOG_STATE_REDIS_URL
  value: {{ printf "%s://:$(NL_REDIS_PASSWORD)@%s:%v/%v" (ternary "rediss" "redis" $r.tls) $r.host $r.port $r.database | quote }}
{{- else }}
- name: NEXUSLOG_STATE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: redis-url
{{- end }}
{{- end }}
{{- with (include "nexuslog.podSetting" (dict "root" $root "role" .role "key" "extraEnv") | fromYamlArray) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The pod template of a workload:
     (dict "root" $ "role" $roleValues "component" "gateway" "args" (list "gateway") "ports" list) */}}
{{- define "nexuslog.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $role := .role -}}
{{- $sel := include "nexuslog.selectorLabels" . -}}
{{- $podAnnotations := include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "podAnnotations") | fromYaml -}}
{{- $podLabels := include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "podLabels") | fromYaml -}}
metadata:
  labels:
    {{- include "nexuslog.componentLabels" . | nindent 4 }}
    {{- with $podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # Roll the pods when the configuration or the chart's Secret changes.
    checksum/config: {{ include "nexuslog.configToml" $root | sha256sum }}
    checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
    {{- if $v.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: "8000"
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "nexuslog.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $v.serviceAccount.automountServiceAccountToken }}
  # Kubernetes would inject NEXUSLOG_*_SERVICE_HOST/PORT variables for the chart's own Services;
  # NexusLog ignores that pattern anyway, but nothing here needs them.
  enableServiceLinks: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ $role.terminationGracePeriodSeconds }}
  {{- $prio := ternary (get $role "priorityClassName") $v.podDefaults.priorityClassName (hasKey $role "priorityClassName") }}
  {{- if $prio }}
  priorityClassName: {{ $prio }}
  {{- end }}
  {{- with (include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "nodeSelector") | fromYaml) }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with (include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "tolerations") | fromYamlArray) }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- $affinity := include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "affinity") | fromYaml }}
  {{- if $affinity }}
  affinity:
    {{- toYaml $affinity | nindent 4 }}
  {{- else }}
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          podAffinityTerm:
            topologyKey: kubernetes.io/hostname
            labelSelector:
              matchLabels:
                {{- $sel | nindent 16 }}
  {{- end }}
  {{- $spread := include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "topologySpreadConstraints") | fromYamlArray }}
  {{- if $spread }}
  topologySpreadConstraints:
    {{- toYaml $spread | nindent 4 }}
  {{- else }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- $sel | nindent 10 }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- $sel | nindent 10 }}
  {{- end }}
  containers:
    - name: nexuslog
      image: {{ include "nexuslog.image" $root }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args:
        {{- toYaml .args | nindent 8 }}
      env:
        {{- include "nexuslog.env" (dict "root" $root "role" $role) | nindent 8 }}
      ports:
        - name: http
          containerPort: 8000
          protocol: TCP
        {{- with .ports }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- /* kubelet's HTTPS probes skip verification but send no client certificate: with mutual TLS only a TCP check can pass. */}}
      {{- $scheme := ternary "HTTPS" "HTTP" $v.https.enabled }}
      {{- $tcpOnly := and $v.https.enabled $v.https.clientCaSecret }}
      startupProbe:
        {{- if $tcpOnly }}
        tcpSocket: {port: http}
        {{- else }}
        httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
        {{- end }}
        {{- toYaml $v.probes.startup | nindent 8 }}
      livenessProbe:
        {{- if $tcpOnly }}
        tcpSocket: {port: http}
        {{- else }}
        httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
        {{- end }}
        {{- toYaml $v.probes.liveness | nindent 8 }}
      readinessProbe:
        {{- if $tcpOnly }}
        tcpSocket: {port: http}
        {{- else }}
        httpGet: {path: /readyz, port: http, scheme: {{ $scheme }}}
        {{- end }}
        {{- toYaml $v.probes.readiness | nindent 8 }}
      {{- if gt (int (default 0 $role.preStopSleepSeconds)) 0 }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ $role.preStopSleepSeconds }}
      {{- end }}
      resources:
        {{- toYaml $role.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/nexuslog/nexuslog.toml
          subPath: nexuslog.toml
          readOnly: true
        - name: tmp
          mountPath: /tmp
        - name: data
          mountPath: /var/lib/nexuslog
        - name: secrets-key
          mountPath: /etc/nexuslog/secrets
          readOnly: true
        {{- if $v.https.enabled }}
        - name: https
          mountPath: /etc/nexuslog/https
          readOnly: true
        {{- if $v.https.clientCaSecret }}
        - name: https-ca
          mountPath: /etc/nexuslog/https-ca
          readOnly: true
        {{- end }}
        {{- end }}
        {{- if and .syslog $v.syslog.tls.enabled }}
        - name: syslog-tls
          mountPath: /etc/nexuslog/syslog-tls
          readOnly: true
        {{- if $v.syslog.tls.clientCaSecret }}
        - name: syslog-ca
          mountPath: /etc/nexuslog/syslog-ca
          readOnly: true
        {{- end }}
        {{- end }}
        {{- range (include "nexuslog.backendTlsSecrets" $root | fromYamlArray) }}
        - name: {{ .name }}
          mountPath: {{ .dir }}
          readOnly: true
        {{- end }}
        {{- with (include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "extraVolumeMounts") | fromYamlArray) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "nexuslog.configMapName" $root }}
    - name: tmp
      emptyDir:
        sizeLimit: {{ $v.tmpSizeLimit }}
    {{- if .dataVolume }}
    - name: data
      {{- toYaml .dataVolume | nindent 6 }}
    {{- else }}
    # Distributed roles keep nothing locally; data_dir only has to be writable.
    - name: data
      emptyDir:
        sizeLimit: 64Mi
    {{- end }}
    - name: secrets-key
      secret:
        secretName: {{ default (include "nexuslog.secretName" $root) $v.secretsKey.existingSecret }}
        items:
          - key: {{ ternary $v.secretsKey.existingSecretKey "secrets-key" (ne $v.secretsKey.existingSecret "") }}
            path: secrets.key
    {{- range (include "nexuslog.backendTlsSecrets" $root | fromYamlArray) }}
    - name: {{ .name }}
      secret:
        secretName: {{ .secret }}
    {{- end }}
    {{- if $v.https.enabled }}
    - name: https
      secret:
        secretName: {{ $v.https.existingSecret }}
    {{- if $v.https.clientCaSecret }}
    - name: https-ca
      secret:
        secretName: {{ $v.https.clientCaSecret }}
    {{- end }}
    {{- end }}
    {{- if and .syslog $v.syslog.tls.enabled }}
    - name: syslog-tls
      secret:
        secretName: {{ $v.syslog.tls.existingSecret }}
    {{- if $v.syslog.tls.clientCaSecret }}
    - name: syslog-ca
      secret:
        secretName: {{ $v.syslog.tls.clientCaSecret }}
    {{- end }}
    {{- end }}
    {{- with (include "nexuslog.podSetting" (dict "root" $root "role" $role "key" "extraVolumes") | fromYamlArray) }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* Container ports of the ingest listeners besides HTTP: OTLP gRPC and syslog. */}}
{{- define "nexuslog.ingestContainerPorts" -}}
{{- $v := .Values -}}
{{- if $v.otlpGrpc.enabled }}
- name: otlp-grpc
  containerPort: {{ $v.otlpGrpc.port }}
  protocol: TCP
{{- end }}
{{- if $v.syslog.enabled }}
{{- $ports := include "nexuslog.syslogPorts" . | fromYaml -}}
{{- if $v.syslog.tcp.enabled }}
- name: syslog-tcp
  containerPort: {{ $ports.tcp }}
  protocol: TCP
{{- end }}
{{- if $v.syslog.udp.enabled }}
- name: syslog-udp
  containerPort: {{ $ports.udp }}
  protocol: UDP
{{- end }}
{{- if $v.syslog.tls.enabled }}
- name: syslog-tls
  containerPort: {{ $ports.tls }}
  protocol: TCP
{{- end }}
{{- end }}
{{- end -}}

{{/* Validation that a schema cannot express. */}}
{{- define "nexuslog.validate" -}}
{{- $v := .Values -}}
{{- if eq $v.mode "distributed" -}}
{{- range $r := list "processor" "sink" -}}
{{- $a := get (get $v $r) "autoscaling" -}}
{{- if and $a.enabled (gt (int $a.maxReplicas) (int $v.kafka.partitions)) -}}
{{- fail (printf "%s.autoscaling.maxReplicas (%v) exceeds kafka.partitions (%v): replicas beyond the partition count get no work" $r $a.maxReplicas $v.kafka.partitions) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (or $v.kafka.tls.caSecret $v.kafka.tls.clientCertSecret) (not $v.kafka.tls.enabled) -}}
{{- fail "kafka.tls.caSecret and kafka.tls.clientCertSecret need kafka.tls.enabled" -}}
{{- end -}}
{{- if and (has $v.postgresql.sslmode (list "verify-ca" "verify-full")) (not $v.postgresql.tls.caSecret) -}}
{{- fail (printf "postgresql.sslmode %s needs postgresql.tls.caSecret" $v.postgresql.sslmode) -}}
{{- end -}}
{{- if and $v.redis.caSecret (not $v.redis.tls) -}}
{{- fail "redis.caSecret needs redis.tls" -}}
{{- end -}}
{{- if and $v.https.enabled (not $v.https.existingSecret) -}}
{{- fail "https.existingSecret (a kubernetes.io/tls Secret) is required when https.enabled" -}}
{{- end -}}
{{- if and $v.https.clientCaSecret (not $v.https.enabled) -}}
{{- fail "https.clientCaSecret needs https.enabled" -}}
{{- end -}}
{{- if and $v.syslog.enabled $v.syslog.tls.enabled (not $v.syslog.tls.existingSecret) -}}
{{- fail "syslog.tls.existingSecret (a kubernetes.io/tls Secret) is required when syslog.tls.enabled" -}}
{{- end -}}
{{- if and $v.syslog.enabled (not (or $v.syslog.tcp.enabled $v.syslog.udp.enabled $v.syslog.tls.enabled)) -}}
{{- fail "syslog.enabled needs at least one of syslog.tcp, syslog.udp, syslog.tls" -}}
{{- end -}}
{{- if and $v.auth.jwtSecret (lt (len $v.auth.jwtSecret) 32) -}}
{{- fail "auth.jwtSecret must be at least 32 characters" -}}
{{- end -}}
{{- end -}}

{{/* The HTTP ingest paths the gateways serve (Ingress and HTTPRoute send them there): NexusLog's
bulk endpoint and the drop-in protocols. `/{index}/_bulk` cannot be matched by a path prefix:
agents that need it are pointed at the gateway Service or use `/_bulk` with `_index` in each
action line. OTLP over gRPC takes the `otlpGrpc` port, not the Ingress. */}}
{{- define "nexuslog.ingestPaths" -}}
- {path: /v1/logs/bulk, type: Exact}
- {path: /v1/logs, type: Exact}
- {path: /_bulk, type: Exact}
- {path: /_license, type: Exact}
- {path: /_xpack, type: Exact}
- {path: /loki/api/v1/push, type: Exact}
- {path: /services/collector, type: Prefix}
{{- end -}}

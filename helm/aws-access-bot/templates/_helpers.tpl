{{/*
Names and labels shared by every object of the release.
*/}}
{{- define "aws-access-bot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aws-access-bot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "aws-access-bot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "aws-access-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one role: call with (dict "root" $ "role" "web"). */}}
{{- define "aws-access-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aws-access-bot.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "aws-access-bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aws-access-bot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "aws-access-bot.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Where the chart mounts things inside the container. */}}
{{- define "aws-access-bot.configDir" -}}/etc/aws-access-bot{{- end }}
{{- define "aws-access-bot.templatesDir" -}}
{{- if or .Values.boundaryTemplates .Values.existingTemplatesConfigMap -}}
/etc/aws-access-bot/templates
{{- else -}}
/app/templates
{{- end -}}
{{- end }}

{{/* The config file: the user's config with templates.directory pointing at the mounted templates. */}}
{{- define "aws-access-bot.configFile" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config "templates" (dict "directory" (include "aws-access-bot.templatesDir" .)) }}
{{- toYaml $config }}
{{- end }}

{{/*
Pod security: non-root numeric user (the image's 10001), no privilege escalation, no Linux
capabilities, read-only root filesystem (/tmp is an emptyDir), runtime-default seccomp.
Not configurable on purpose: the bot holds Slack tokens and can create IAM roles.
*/}}
{{- define "aws-access-bot.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "aws-access-bot.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
{{- end }}

{{/* Environment of both roles: secrets from existingSecret, never from values. */}}
{{- define "aws-access-bot.env" -}}
{{- $secret := required "existingSecret must name a Secret with SLACK_BOT_TOKEN, REDIS_URL, AWS_ACCESS_HMAC_KEY and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN" .Values.existingSecret -}}
- name: SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: SLACK_BOT_TOKEN
- name: SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: SLACK_SIGNING_SECRET
      # Socket Mode needs no signing secret.
      optional: true
- name: SLACK_APP_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: SLACK_APP_TOKEN
      # Present: Socket Mode. Absent: HTTP mode behind the Ingress.
      optional: true
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: REDIS_URL
- name: AWS_ACCESS_HMAC_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: AWS_ACCESS_HMAC_KEY
- name: PAGERDUTY_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: PAGERDUTY_API_TOKEN
      # Only for rules naming PagerDuty schedules (the bot refuses to start without it then).
      optional: true
- name: OPSGENIE_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: OPSGENIE_API_KEY
      # Only for rules naming Opsgenie schedules (the bot refuses to start without it then).
      optional: true
- name: AWS_REGION
  value: {{ .Values.awsRegion | quote }}
- name: AWS_ACCESS_CONFIG
  value: {{ include "aws-access-bot.configDir" . }}/aws-access.yaml
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: PORT
  value: "3000"
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes of both roles. */}}
{{- define "aws-access-bot.volumes" -}}
- name: config
  configMap:
    name: {{ include "aws-access-bot.fullname" . }}-config
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.existingTemplatesConfigMap }}
- name: templates
  configMap:
    name: {{ .Values.existingTemplatesConfigMap }}
{{- else if .Values.boundaryTemplates }}
- name: templates
  configMap:
    name: {{ include "aws-access-bot.fullname" . }}-templates
{{- end }}
{{- end }}

{{- define "aws-access-bot.volumeMounts" -}}
- name: config
  mountPath: {{ include "aws-access-bot.configDir" . }}/aws-access.yaml
  subPath: aws-access.yaml
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if or .Values.existingTemplatesConfigMap .Values.boundaryTemplates }}
- name: templates
  mountPath: /etc/aws-access-bot/templates
  readOnly: true
{{- end }}
{{- end }}

{{/*
Pod template of one role: call with (dict "root" $ "role" "web" "values" .Values.web).
*/}}
{{- define "aws-access-bot.podTemplate" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "aws-access-bot.selectorLabels" (dict "root" $root "role" .role) | nindent 4 }}
    {{- with $root.Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "aws-access-bot.configFile" $root | sha256sum }}
    checksum/templates: {{ toYaml $root.Values.boundaryTemplates | sha256sum }}
    {{- if $root.Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: "3000"
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "aws-access-bot.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $root.Values.serviceAccount.automountToken }}
  terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
  securityContext:
    {{- include "aws-access-bot.podSecurityContext" $root | nindent 4 }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .role }}
      image: {{ include "aws-access-bot.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      {{- /* The app's shutdown deadline sits 5 s inside the grace period, so it exits on its own
      before the kubelet's SIGKILL; the web drain (serve with /readyz at 503 while the endpoint
      removal reaches kube-proxy and the load balancer) is part of that deadline. */}}
      {{- $timeout := sub (int .values.terminationGracePeriodSeconds) 5 }}
      {{- $drain := int (.values.shutdownDrainSeconds | default 0) }}
      {{- if le $timeout $drain }}
      {{- fail (printf "%s.terminationGracePeriodSeconds must exceed %s.shutdownDrainSeconds by more than 5" .role .role) }}
      {{- end }}
      args: ["start", "--role", {{ .role | quote }}, "--shutdown-timeout", {{ $timeout | quote }}, "--drain", {{ $drain | quote }}]
      ports:
        - name: http
          containerPort: 3000
          protocol: TCP
      env:
        {{- include "aws-access-bot.env" $root | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        initialDelaySeconds: 10
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
      resources:
        {{- toYaml .values.resources | nindent 8 }}
      securityContext:
        {{- include "aws-access-bot.containerSecurityContext" $root | nindent 8 }}
      volumeMounts:
        {{- include "aws-access-bot.volumeMounts" $root | nindent 8 }}
  volumes:
    {{- include "aws-access-bot.volumes" $root | nindent 4 }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

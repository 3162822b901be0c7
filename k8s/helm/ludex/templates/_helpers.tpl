{{/* Names and labels shared by every template. Resources are named after the release. */}}
{{- define "ludex.fullname" -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{- define "ludex.labels" -}}
app.kubernetes.io/name: ludex
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: ludex
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ludex.configName" -}}
{{ include "ludex.fullname" . }}-config
{{- end -}}

{{- define "ludex.secretName" -}}
{{- if .Values.secret.create -}}
{{ include "ludex.fullname" . }}-secrets
{{- else -}}
{{ required "secret.existingSecret names the Secret holding LUDEX_MONGO_URL, LUDEX_REDIS_URL and LUDEX_SECRET_KEY" .Values.secret.existingSecret }}
{{- end -}}
{{- end -}}

{{/* Pods roll (a new Ray cluster) whenever the settings change: every Ray process reads them once. */}}
{{- define "ludex.configChecksum" -}}
{{ toJson .Values.settings | sha256sum | trunc 16 }}
{{- end -}}

{{- define "ludex.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "ludex.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "ludex.env" -}}
env:
  - name: RAY_USAGE_STATS_ENABLED
    value: "0"
envFrom:
  - configMapRef:
      name: {{ include "ludex.configName" . }}
  - secretRef:
      name: {{ include "ludex.secretName" . }}
{{- end -}}

{{- define "ludex.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: home
    mountPath: /home/ludex
  - name: data
    mountPath: /data
{{- end -}}

{{- define "ludex.volumes" -}}
volumes:
  - name: tmp
    emptyDir: {}
  - name: home
    emptyDir: {}
  - name: data
    emptyDir: {}
{{- end -}}

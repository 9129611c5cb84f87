{{/* Full name: the release name, or <release>-causeway when it lacks "causeway". */}}
{{- define "causeway.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "causeway.serviceAccountName" -}}
{{- default (include "causeway.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* Selector labels: stable across upgrades (a Deployment's selector is immutable). */}}
{{- define "causeway.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "causeway.labels" -}}
{{ include "causeway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "causeway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The xDS Service's in-cluster DNS names, what proxies dial by default. */}}
{{- define "causeway.xdsServerNames" -}}
{{- if .Values.xds.serverNames -}}
{{- join "," .Values.xds.serverNames -}}
{{- else -}}
{{- $svc := printf "%s.%s.svc" (include "causeway.fullname" .) .Release.Namespace -}}
{{- printf "%s,%s.cluster.local" $svc $svc -}}
{{- end -}}
{{- end -}}

{{/*
GOMEMLIMIT in MiB: goMemLimitRatio of resources.limits.memory. Accepts a
plain byte count or a Kubernetes quantity with a binary (Ki Mi Gi Ti) or
decimal (k M G T) suffix; anything else fails the render with its value.
*/}}
{{- define "causeway.goMemLimit" -}}
{{- $limit := toString .Values.resources.limits.memory -}}
{{- $m := regexFindAll "^([0-9]+(?:\\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$" $limit -1 -}}
{{- if not $m -}}
{{- fail (printf "resources.limits.memory %q: want a number of bytes or a quantity with a Ki, Mi, Gi, Ti, k, M, G or T suffix" $limit) -}}
{{- end -}}
{{- $num := regexFind "^[0-9]+(?:\\.[0-9]+)?" $limit | float64 -}}
{{- $unit := trimPrefix (regexFind "^[0-9]+(?:\\.[0-9]+)?" $limit) $limit -}}
{{- $mult := get (dict "" 1.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0) $unit -}}
{{- $ratio := float64 .Values.goMemLimitRatio -}}
{{- if or (le $ratio 0.0) (gt $ratio 1.0) -}}
{{- fail (printf "goMemLimitRatio %v: want a fraction in (0, 1]" .Values.goMemLimitRatio) -}}
{{- end -}}
{{- $mib := divf (mulf (mulf $num $mult) $ratio) 1048576.0 | floor | int64 -}}
{{- if lt $mib 1 -}}
{{- fail (printf "resources.limits.memory %q: GOMEMLIMIT would be under 1MiB" $limit) -}}
{{- end -}}
{{- printf "%dMiB" $mib -}}
{{- end -}}

{{/* The client proxy's labels: its own name, so its Pods are not the control plane's. */}}
{{- define "causeway.clientSelectorLabels" -}}
app.kubernetes.io/name: causeway-client
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "causeway.clientLabels" -}}
{{ include "causeway.clientSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

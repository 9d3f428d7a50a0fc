{{/* Chart name, overridable with nameOverride. */}}
{{- define "trainer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: fullnameOverride, else the release name when it contains the chart name, else <release>-<chart>. */}}
{{- define "trainer.fullname" -}}
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

{{/* chart label value. */}}
{{- define "trainer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: a subset of trainer.labels. */}}
{{- define "trainer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trainer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels of every object. */}}
{{- define "trainer.labels" -}}
helm.sh/chart: {{ include "trainer.chart" . }}
{{ include "trainer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kiln
{{- end }}

{{/* Labels of training Jobs and their pods: the plugin lists runs by part-of=kiln,component=training-run. */}}
{{- define "trainer.runLabels" -}}
{{ include "trainer.labels" . }}
app.kubernetes.io/component: training-run
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "trainer.serviceAccountName" -}}
{{- .Values.serviceAccount.name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* One-off run Job name. */}}
{{- define "trainer.runName" -}}
{{- default (printf "%s-run" (include "trainer.fullname" .)) .Values.run.name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Sweep Job name. */}}
{{- define "trainer.sweepName" -}}
{{- default (printf "%s-sweep" (include "trainer.fullname" .)) .Values.sweep.name | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
Sweep grid as a JSON array: the cartesian product of sweep.values, keys in alphabetical order,
the last key varying fastest. Element i = {dotted path: value} for JOB_COMPLETION_INDEX=i.
*/}}
{{- define "trainer.sweepGrid" -}}
{{- $grid := list (dict) }}
{{- range $path := keys .Values.sweep.values | sortAlpha }}
{{- $next := list }}
{{- range $point := $grid }}
{{- range $value := index $.Values.sweep.values $path }}
{{- $next = append $next (merge (dict $path $value) $point) }}
{{- end }}
{{- end }}
{{- $grid = $next }}
{{- end }}
{{- toJson $grid }}
{{- end }}

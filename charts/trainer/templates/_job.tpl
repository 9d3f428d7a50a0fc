{{/*
The training Job, defined once and used by the CronJob's jobTemplate, the one-off Job and the sweep Job.
Call with (dict "root" $ "name" <job name or ""> "sweep" <bool>).
*/}}

{{/* Labels of a training Job (and its pods): run labels, kiln.dev/run when the name is known, the Kueue queue. */}}
{{- define "trainer.jobLabels" -}}
{{ include "trainer.runLabels" .root }}
{{- if .name }}
kiln.dev/run: {{ .name | quote }}
{{- end }}
{{- if .root.Values.queue }}
kueue.x-k8s.io/queue-name: {{ .root.Values.queue | quote }}
{{- end }}
{{- end }}

{{/* Container resources: values resources plus the GPU contract's resource from gpus. */}}
{{- define "trainer.resources" -}}
{{- $res := default (dict) .Values.resources }}
{{- $requests := deepCopy (default (dict) $res.requests) }}
{{- $limits := deepCopy (default (dict) $res.limits) }}
{{- if gt (int .Values.gpus) 0 }}
{{- $_ := set $requests .Values.gpuContract.resource (toString (int .Values.gpus)) }}
{{- $_ := set $limits .Values.gpuContract.resource (toString (int .Values.gpus)) }}
{{- end }}
{{- $resources := dict }}
{{- with $requests }}{{ $_ := set $resources "requests" . }}{{ end }}
{{- with $limits }}{{ $_ := set $resources "limits" . }}{{ end }}
{{- toYaml $resources }}
{{- end }}

{{- define "trainer.jobSpec" -}}
{{- $root := .root }}
{{- $v := $root.Values -}}
backoffLimit: {{ int $v.job.backoffLimit }}
{{- if $v.queue }}
# Created suspended: Kueue admits the Job by unsuspending it.
suspend: true
{{- end }}
{{- if gt (int $v.job.activeDeadlineSeconds) 0 }}
activeDeadlineSeconds: {{ int $v.job.activeDeadlineSeconds }}
{{- end }}
ttlSecondsAfterFinished: {{ int $v.job.ttlSecondsAfterFinished }}
podFailurePolicy:
  rules:
    # A node drained, preempted or reclaimed: retry without counting it against backoffLimit.
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
          status: "True"
    # Exit 143 = the trainer was sent SIGTERM (pod deleted, node shut down, Kueue preemption) and
    # checkpointed before it exited: the next pod resumes, and the stop is not the run's failure.
    - action: Ignore
      onExitCodes:
        containerName: trainer
        operator: In
        values: [143]
    # Exit 2 = invalid run spec, exit 3 = training diverged (NaN/infinite loss): retrying cannot help.
    - action: FailJob
      onExitCodes:
        containerName: trainer
        operator: In
        values: [2, 3]
{{- if .sweep }}
{{- $points := len (include "trainer.sweepGrid" $root | fromJsonArray) }}
completionMode: Indexed
completions: {{ $points }}
parallelism: {{ min (int $v.sweep.parallelism) $points }}
{{- end }}
template:
  metadata:
    labels:
      {{- include "trainer.jobLabels" (dict "root" $root "name" .name) | nindent 6 }}
    annotations:
      # Karpenter must not consolidate a node under a running training pod.
      karpenter.sh/do-not-disrupt: "true"
  spec:
    serviceAccountName: {{ include "trainer.serviceAccountName" $root }}
    # The trainer does not call the Kubernetes API.
    automountServiceAccountToken: false
    restartPolicy: Never
    terminationGracePeriodSeconds: {{ int $v.job.terminationGracePeriodSeconds }}
    {{- with $v.priorityClassName }}
    priorityClassName: {{ . }}
    {{- end }}
    securityContext:
      runAsNonRoot: true
      runAsUser: 10001
      runAsGroup: 10001
      fsGroup: 10001
      seccompProfile:
        type: RuntimeDefault
    {{- if gt (int $v.gpus) 0 }}
    {{- with $v.gpuPool }}
    nodeSelector:
      {{ $v.gpuContract.poolLabel }}: {{ . | quote }}
    {{- end }}
    {{- with $v.gpuContract.tolerations }}
    tolerations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- end }}
    containers:
      - name: trainer
        image: "{{ $v.image.repository }}:{{ $v.image.tag }}"
        imagePullPolicy: {{ $v.image.pullPolicy }}
        command: ["node", "/app/dist/main.js", "train"]
        {{- /* The trainer writes its best epoch line as the message (ls reads it from the pod list); a crash that wrote none keeps the log's tail. */}}
        terminationMessagePolicy: FallbackToLogsOnError
        env:
          - name: HOME
            value: /tmp
          - name: KILN_RUN_SPEC
            valueFrom:
              configMapKeyRef:
                name: kiln-run-spec
                key: spec.yaml
          # The Job's name: a retried pod resumes the same run from its checkpoints.
          - name: KILN_RUN_ID
            valueFrom:
              fieldRef:
                fieldPath: metadata.labels['batch.kubernetes.io/job-name']
          # GPUs of this pod (the GPU request): the trainer records GPU-hours in run.json.
          - name: KILN_GPUS
            value: {{ toString (int $v.gpus) | quote }}
          # Where a run spec's dataset.diskCacheGiB keeps encoded shards: the /tmp emptyDir, within its limit.
          - name: KILN_CACHE_DIR
            value: /tmp/kiln-cache
          {{- /* A stuck trainer exits by itself at 3/4 of the pod's grace period, before the kubelet's SIGKILL. */}}
          - name: KILN_STOP_GRACE_SECONDS
            value: {{ max 1 (div (mul (int $v.job.terminationGracePeriodSeconds) 3) 4) | quote }}
          {{- with $v.scratch.sizeLimit }}
          - name: KILN_CACHE_LIMIT
            value: {{ . | quote }}
          {{- end }}
          {{- if .sweep }}
          - name: KILN_SWEEP_OVERRIDES
            valueFrom:
              configMapKeyRef:
                name: {{ include "trainer.sweepName" $root }}-overrides
                key: overrides.json
          {{- end }}
          - name: AWS_REGION
            value: {{ $v.objectStore.region | quote }}
          {{- with $v.objectStore.endpoint }}
          - name: AWS_ENDPOINT_URL_S3
            value: {{ . | quote }}
          {{- end }}
          {{- with $v.objectStore.credentialsSecret }}
          - name: AWS_ACCESS_KEY_ID
            valueFrom:
              secretKeyRef:
                name: {{ . }}
                key: AWS_ACCESS_KEY_ID
          - name: AWS_SECRET_ACCESS_KEY
            valueFrom:
              secretKeyRef:
                name: {{ . }}
                key: AWS_SECRET_ACCESS_KEY
          {{- end }}
        resources:
          {{- include "trainer.resources" $root | nindent 10 }}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        volumeMounts:
          - name: tmp
            mountPath: /tmp
          {{- with $v.datasetCache.claimName }}
          - name: datasets
            mountPath: {{ $v.datasetCache.mountPath }}
            readOnly: true
            {{- with $v.datasetCache.subPath }}
            subPath: {{ . }}
            {{- end }}
          {{- end }}
    volumes:
      - name: tmp
        {{- with $v.scratch.sizeLimit }}
        emptyDir:
          sizeLimit: {{ . | quote }}
        {{- else }}
        emptyDir: {}
        {{- end }}
      {{- with $v.datasetCache.claimName }}
      - name: datasets
        persistentVolumeClaim:
          claimName: {{ . }}
          readOnly: true
      {{- end }}
{{- end }}

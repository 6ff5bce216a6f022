{{/*
Names. A CronJob's name becomes the prefix of its Jobs' names and may have at most 52 characters.
*/}}
{{- define "dify-dr.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dify-dr.fullname" -}}
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

{{- define "dify-dr.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dify-dr.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* A CronJob name, refused with a clear message when Kubernetes would refuse it. */}}
{{- define "dify-dr.cronJobName" -}}
{{- if gt (len .) 52 -}}
{{- fail (printf "CronJob name '%s' has %d characters; Kubernetes allows 52 for a CronJob. Use a shorter release name, fullnameOverride, install name or schedule name" . (len .)) -}}
{{- end -}}
{{- . -}}
{{- end -}}

{{- define "dify-dr.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dify-dr.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dify-dr.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dify-dr.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels of one install's objects: the release's, plus the install's name in fleet mode. Takes {root, install}. */}}
{{- define "dify-dr.installLabels" -}}
{{ include "dify-dr.labels" .root }}
{{- if .install.name }}
dify-dr/install: {{ .install.name }}
{{- end }}
{{- end -}}

{{/*
The schedules shipped with the chart: files/schedules/*.yaml, copies of the repository's schedules/.
Returns YAML {schedules: [...]}.
*/}}
{{- define "dify-dr.defaultSchedules" -}}
{{- $list := list -}}
{{- range $path, $_ := .Files.Glob "files/schedules/*.yaml" -}}
{{- $list = append $list (fromYaml ($.Files.Get $path)) -}}
{{- end -}}
{{- toYaml (dict "schedules" $list) -}}
{{- end -}}

{{/*
The namespaces of a configuration's pod storages (the storage and restore.storage entries with pod:), each where
dify-dr looks for the pod: pod.namespace, else kubernetes.namespace, else dify (dify-dr's default). Returns YAML
{namespaces: [...]}, distinct and sorted.
*/}}
{{- define "dify-dr.podStorageNamespaces" -}}
{{- $default := ((get . "kubernetes") | default dict).namespace | default "dify" -}}
{{- $found := list -}}
{{- range concat (.storage | default list) ((.restore | default dict).storage | default list) -}}
{{- if and (kindIs "map" .) (kindIs "map" .pod) -}}
{{- $found = append $found (.pod.namespace | default $default) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "namespaces" ($found | uniq | sortAlpha)) -}}
{{- end -}}

{{/*
Helm reads values as YAML 1.1, where an unquoted key `on` is the boolean true: a notification's `on: [failure]`
arrives as the key "true". dify-dr has no key "true", so it is put back under `on` (in place).
*/}}
{{- define "dify-dr.restoreOnKeys" -}}
{{- range (get . "notifications" | default list) -}}
{{- if and (kindIs "map" .) (hasKey . "true") (not (hasKey . "on")) -}}
{{- $_ := set . "on" (get . "true") -}}
{{- $_ := unset . "true" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The Dify installs this release serves, as YAML {installs: [...]}: one built from the top-level values, or one per
fleet entry. Each has name ("" for the single install), namespace (Dify's), prefix (of its object names),
restoreName, config (the rendered configuration, or null with an existing Secret), configSecret, createConfig,
schedules, offset (minutes added to the schedules' minute field), podExec (pods/exec in Dify's namespace),
podNamespaces (the other namespaces a pod storage of the configuration is in) and drillNamespace (drill.namespace, or
rbac.drillNamespace when the configuration is an existing Secret).
*/}}
{{- define "dify-dr.installs" -}}
{{- $root := . -}}
{{- $full := include "dify-dr.fullname" . -}}
{{- $default := (fromYaml (include "dify-dr.defaultSchedules" .)).schedules -}}
{{- $installs := list -}}
{{- if .Values.fleet -}}
{{- if .Values.existingConfigSecret -}}
{{- fail "existingConfigSecret cannot be shared by the installs of a fleet (each needs its own deployment): give config, or existingConfigSecret in each fleet entry" -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $i, $f := .Values.fleet -}}
{{- if hasKey $seen $f.name -}}
{{- fail (printf "fleet[%d].name: '%s' is used twice; every install needs its own name" $i $f.name) -}}
{{- end -}}
{{- $_ := set $seen $f.name true -}}
{{- $cfg := dict -}}
{{- $secret := $f.existingConfigSecret | default "" -}}
{{- if not $secret -}}
{{- $cfg = mergeOverwrite (deepCopy ($root.Values.config | default dict)) (deepCopy ($f.config | default dict)) -}}
{{- $_ := set $cfg "deployment" ($f.deployment | default $f.name) -}}
{{- include "dify-dr.restoreOnKeys" $cfg -}}
{{- if or $f.release (hasKey $cfg "kubernetes") -}}
{{- $k := get $cfg "kubernetes" | default dict -}}
{{- $_ := set $k "namespace" $f.namespace -}}
{{- if $f.release -}}{{- $_ := set $k "release" $f.release -}}{{- end -}}
{{- $_ := set $cfg "kubernetes" $k -}}
{{- end -}}
{{- if $f.repositoryPrefix -}}
{{- $repo := get $cfg "repository" | default dict -}}
{{- if not $repo.url -}}
{{- fail (printf "fleet[%d].repositoryPrefix: config has no repository.url to add it to" $i) -}}
{{- end -}}
{{- $_ := set $repo "url" (printf "%s/%s" (trimSuffix "/" $repo.url) (trimAll "/" $f.repositoryPrefix)) -}}
{{- $_ := set $cfg "repository" $repo -}}
{{- end -}}
{{- end -}}
{{- $prefix := printf "%s-%s" $full $f.name -}}
{{- $podNamespaces := (fromYaml (include "dify-dr.podStorageNamespaces" $cfg)).namespaces -}}
{{- $podExec := $root.Values.rbac.podExec -}}
{{- if kindIs "invalid" $podExec -}}{{- $podExec = has $f.namespace $podNamespaces -}}{{- end -}}
{{- $spread := int $root.Values.fleetSpreadMinutes -}}
{{- $offset := 0 -}}
{{- if gt $spread 0 -}}{{- $offset = mod (atoi (adler32sum $f.name)) $spread -}}{{- end -}}
{{- $installs = append $installs (dict
      "name" $f.name
      "namespace" $f.namespace
      "prefix" $prefix
      "restoreName" (printf "%s-%s-restore" $root.Release.Name $f.name)
      "config" (ternary nil $cfg (not (empty $secret)))
      "configSecret" (default (printf "%s-config" $prefix) $secret)
      "createConfig" (empty $secret)
      "schedules" ($f.schedules | default $root.Values.schedules | default $default)
      "offset" $offset
      "podExec" $podExec
      "podNamespaces" (without $podNamespaces $f.namespace)
      "drillNamespace" (((get $cfg "drill") | default dict).namespace | default $root.Values.rbac.drillNamespace)) -}}
{{- end -}}
{{- else -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- include "dify-dr.restoreOnKeys" $cfg -}}
{{- /* dify-dr's own default namespace is dify, where a kubernetes section names none */ -}}
{{- $configured := ternary (((get $cfg "kubernetes") | default dict).namespace | default "dify") "" (hasKey $cfg "kubernetes") -}}
{{- if and .Values.difyNamespace $configured (ne .Values.difyNamespace $configured) -}}
{{- fail (printf "difyNamespace '%s' differs from config.kubernetes.namespace '%s': the Role would not be where dify-dr looks; make them equal" .Values.difyNamespace $configured) -}}
{{- end -}}
{{- $namespace := .Values.difyNamespace | default $configured | default .Release.Namespace -}}
{{- $podNamespaces := (fromYaml (include "dify-dr.podStorageNamespaces" $cfg)).namespaces -}}
{{- $podExec := .Values.rbac.podExec -}}
{{- if kindIs "invalid" $podExec -}}{{- $podExec = has $namespace $podNamespaces -}}{{- end -}}
{{- $installs = append $installs (dict
      "name" ""
      "namespace" $namespace
      "prefix" $full
      "restoreName" (printf "%s-restore" .Release.Name)
      "config" (ternary nil $cfg (not (empty .Values.existingConfigSecret)))
      "configSecret" (.Values.existingConfigSecret | default (printf "%s-config" $full))
      "createConfig" (empty .Values.existingConfigSecret)
      "schedules" (.Values.schedules | default $default)
      "offset" 0
      "podExec" $podExec
      "podNamespaces" (without $podNamespaces $namespace)
      "drillNamespace" (((get $cfg "drill") | default dict).namespace | default .Values.rbac.drillNamespace)) -}}
{{- end -}}
{{- range $installs -}}
{{- if and .config $root.Values.encryption.existingSecret (not (get (get .config "encryption" | default dict) "keyset")) -}}
{{- fail (printf "encryption.existingSecret is set but the configuration%s has no encryption.keyset: add encryption: {keyset: \"${file:/var/run/secrets/dify-dr-keyset/keyset.json}\"} or backups are written unencrypted" (ternary "" (printf " of install '%s'" .name) (empty .name))) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "installs" $installs) -}}
{{- end -}}

{{/*
A schedule's dify-dr command line, as ScheduleLoader builds Schedule.arguments(): the job, its options, --lock-wait.
Returns YAML {args: [...]}.
*/}}
{{- define "dify-dr.scheduleArgs" -}}
{{- $args := list .job -}}
{{- if eq .job "backup" -}}
{{- if .components -}}{{- $args = concat $args (list "--only" (join "," .components)) -}}{{- end -}}
{{- else if or (eq .job "verify") (eq .job "drill") -}}
{{- $args = append $args "latest" -}}
{{- if eq (toString .readData) "true" -}}{{- $args = append $args "--read-data" -}}{{- end -}}
{{- if eq (toString .strict) "true" -}}{{- $args = append $args "--strict" -}}{{- end -}}
{{- else if eq .job "prune" -}}
{{- $args = append $args "--yes" -}}
{{- $r := .retention | default dict -}}
{{- range list (list "--keep-last" "keepLast") (list "--keep-hourly" "keepHourly") (list "--keep-daily" "keepDaily") (list "--keep-weekly" "keepWeekly") (list "--keep-monthly" "keepMonthly") (list "--keep-yearly" "keepYearly") (list "--keep-within" "keepWithin") (list "--min-keep" "minKeep") -}}
{{- $v := index $r (last .) -}}
{{- if not (kindIs "invalid" $v) -}}
{{- $args = concat $args (list (first .) (ternary $v (toString (int64 $v)) (kindIs "string" $v))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .lockWait -}}{{- $args = concat $args (list "--lock-wait" (toString .lockWait)) -}}{{- end -}}
{{- toYaml (dict "args" $args) -}}
{{- end -}}

{{/* Seconds of a duration as dify-dr writes them (45s, 10m, 1h30m, 7d; ISO PT10M), 0 for "0" or nothing. */}}
{{- define "dify-dr.seconds" -}}
{{- $s := lower (toString .) -}}
{{- $total := 0 -}}
{{- range $unit, $factor := dict "d" 86400 "h" 3600 "m" 60 "s" 1 -}}
{{- $m := regexFind (printf "[0-9]+%s" $unit) $s -}}
{{- if $m -}}{{- $total = add $total (mul (atoi (trimSuffix $unit $m)) $factor) -}}{{- end -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/*
A schedule's cron for one install: unchanged without an offset; with one, macros are spelled out and every minute
value of a minute field made of plain numbers (0, 15, 0,30) moves forward by the offset within its hour. Steps,
ranges and '*' are left alone. Takes {cron, offset}.
*/}}
{{- define "dify-dr.cron" -}}
{{- $cron := trim .cron -}}
{{- if eq (int .offset) 0 -}}
{{- $cron -}}
{{- else -}}
{{- $macros := dict "@yearly" "0 0 1 1 *" "@annually" "0 0 1 1 *" "@monthly" "0 0 1 * *" "@weekly" "0 0 * * 0" "@daily" "0 0 * * *" "@midnight" "0 0 * * *" "@hourly" "0 * * * *" -}}
{{- $cron = get $macros (lower $cron) | default $cron -}}
{{- $fields := regexSplit "\\s+" $cron -1 -}}
{{- if regexMatch "^[0-9]+(,[0-9]+)*$" (first $fields) -}}
{{- $minutes := list -}}
{{- range splitList "," (first $fields) -}}
{{- $minutes = append $minutes (toString (mod (add (atoi .) $.offset) 60)) -}}
{{- end -}}
{{- join " " (prepend (rest $fields) (join "," $minutes)) -}}
{{- else -}}
{{- $cron -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The pod spec of every dify-dr pod: restricted Pod Security, read-only root filesystem with a writable /tmp, the
configuration, keyset and credentials. Takes {root, install, args, command, tmpSize, resources, restartPolicy,
schedulesConfigMap, ports, schedule}; schedule (a per-schedule CronJob's) becomes DIFY_DR_SCHEDULE.
*/}}
{{- define "dify-dr.podSpec" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
serviceAccountName: {{ include "dify-dr.serviceAccountName" $root }}
{{- with .restartPolicy }}
restartPolicy: {{ . }}
{{- end }}
{{- with .terminationGracePeriodSeconds }}
terminationGracePeriodSeconds: {{ . }}
{{- end }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: dify-dr
    image: "{{ $v.image.repository }}:{{ $v.image.tag | default $root.Chart.AppVersion }}"
    imagePullPolicy: {{ $v.image.pullPolicy }}
    {{- with (.command | default $v.image.command) }}
    command:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    args:
      {{- range .args }}
      - {{ toString . | quote }}
      {{- end }}
    env:
      - {name: DIFY_DR_CONFIG, value: /etc/dify-dr/config.yaml}
      {{- with .schedule }}
      # The schedule this CronJob runs: the `schedule` label of the run's metrics, and its group in the Pushgateway.
      - {name: DIFY_DR_SCHEDULE, value: {{ . | quote }}}
      {{- end }}
      {{- with $v.image.jar }}
      - {name: DIFY_DR_JAR, value: {{ . | quote }}}
      {{- end }}
      - {name: DIFY_DR_JAVA_OPTS, value: {{ $v.javaOpts | quote }}}
      # The root filesystem is read-only: home, local restore journals (XDG_STATE_HOME) and temp files go to /tmp.
      - {name: HOME, value: /tmp}
      - {name: XDG_STATE_HOME, value: /tmp/state}
      {{- with $v.encryption.passphraseSecret }}
      {{- if .name }}
      - name: DIFY_DR_KEYSET_PASSPHRASE
        valueFrom: {secretKeyRef: {name: {{ .name }}, key: {{ .key | default "passphrase" }}}}
      {{- end }}
      {{- end }}
      {{- with $v.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- if or $v.repository.existingSecret $v.extraEnvFrom }}
    envFrom:
      {{- with $v.repository.existingSecret }}
      - secretRef: {name: {{ . }}}
      {{- end }}
      {{- with $v.extraEnvFrom }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- end }}
    {{- with .ports }}
    ports:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .probes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    resources:
      {{- toYaml (.resources | default $v.resources) | nindent 6 }}
    securityContext:
      {{- toYaml $v.securityContext | nindent 6 }}
    volumeMounts:
      - {name: config, mountPath: /etc/dify-dr, readOnly: true}
      - {name: tmp, mountPath: /tmp}
      {{- if $v.encryption.existingSecret }}
      - {name: keyset, mountPath: /var/run/secrets/dify-dr-keyset, readOnly: true}
      {{- end }}
      {{- range $i, $m := $v.secretMounts }}
      - {name: secret-{{ $i }}, mountPath: {{ $m.mountPath }}, readOnly: true}
      {{- end }}
      {{- if .schedulesConfigMap }}
      - {name: schedules, mountPath: /etc/dify-dr-schedules, readOnly: true}
      {{- end }}
      {{- with $v.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  - name: config
    secret:
      secretName: {{ .install.configSecret }}
      defaultMode: 0440
  - name: tmp
    emptyDir: {sizeLimit: {{ .tmpSize }}}
  {{- with $v.encryption.existingSecret }}
  - name: keyset
    secret:
      secretName: {{ . }}
      defaultMode: 0440
      items: [{key: {{ $v.encryption.key | default "keyset.json" }}, path: keyset.json}]
  {{- end }}
  {{- range $i, $m := $v.secretMounts }}
  - name: secret-{{ $i }}
    secret:
      secretName: {{ $m.name }}
      defaultMode: 0440
  {{- end }}
  {{- with .schedulesConfigMap }}
  - name: schedules
    configMap: {name: {{ . }}}
  {{- end }}
  {{- with $v.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/*
Helpers shared by the templates of this chart. The hub chart has the same
helpers under its own prefix: each chart stays installable on its own.
*/}}

{{/* The chart's name, at most 63 characters (a label value). */}}
{{- define "ogpnet-node.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of every object: the release name, as in chart 0.1.0, so an upgrade
keeps the Deployment, Service and, above all, the data claim.
*/}}
{{- define "ogpnet-node.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select this release's pods; never change them (selectors are immutable). */}}
{{- define "ogpnet-node.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ogpnet-node.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Standard labels of every object. */}}
{{- define "ogpnet-node.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ogpnet-node.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/component: node
app.kubernetes.io/part-of: ogpnet
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The container image: a digest wins over a tag; the tag defaults to appVersion. */}}
{{- define "ogpnet-node.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
{{- end }}

{{/* "true" when a MongoDB replica set is configured, empty for the embedded store. */}}
{{- define "ogpnet-node.externalStore" -}}
{{- if or .Values.mongo.uri .Values.mongo.existingSecret }}true{{ end }}
{{- end }}

{{/* The claim holding the embedded store, or empty when there is none. */}}
{{- define "ogpnet-node.claimName" -}}
{{- if and .Values.persistence.enabled (not (include "ogpnet-node.externalStore" .)) -}}
{{ .Values.persistence.existingClaim | default (printf "%s-data" (include "ogpnet-node.fullname" .)) }}
{{- end }}
{{- end }}

{{/*
Refuses values that would render a broken release. The embedded store is a
SQLite file inside one pod: a second replica would start a second, empty
store (or fight over the claim), so more than one replica needs MongoDB.
*/}}
{{- define "ogpnet-node.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "ogpnet-node.externalStore" .)) }}
{{- fail (printf "replicaCount is %d, but without mongo.uri or mongo.existingSecret the node runs the embedded store, which lives in one pod: set replicaCount: 1, or point mongo.uri (or mongo.existingSecret) at a MongoDB replica set" (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.mongo.uri .Values.mongo.existingSecret }}
{{- fail "set mongo.uri or mongo.existingSecret, not both" }}
{{- end }}
{{- end }}

{{/*
The container's environment: each OGPNET_<FLAG> only when its value is set,
so the binary's own defaults apply otherwise (an empty
OGPNET_BACKFILL_INTERVAL would not even parse).
*/}}
{{- define "ogpnet-node.env" -}}
- name: OGPNET_ADDR
  value: ":8080"
- name: OGPNET_DATA
  value: /data
- name: OGPNET_NAME
  value: {{ required "node.name is required (the node's slug, e.g. jalisco)" .Values.node.name | quote }}
- name: OGPNET_URL
  value: {{ required "node.url is required (the public base URL, e.g. https://ogp.jalisco.gob.mx)" .Values.node.url | quote }}
{{- range $pair := list
  (list "OGPNET_DISPLAY_NAME" .Values.node.displayName)
  (list "OGPNET_LANG" .Values.node.lang)
  (list "OGPNET_LANGUAGES" .Values.node.languages)
  (list "OGPNET_ALLOW_PRIVATE" .Values.node.allowPrivate)
  (list "OGPNET_LOG_LEVEL" .Values.log.level)
  (list "OGPNET_LOG_FORMAT" .Values.log.format)
  (list "OGPNET_OIDC_ISSUER" .Values.oidc.issuer)
  (list "OGPNET_OIDC_CLIENT_ID" .Values.oidc.clientId)
  (list "OGPNET_OPERATOR_DOMAINS" .Values.oidc.operatorDomains)
  (list "OGPNET_GROUPS_CLAIM" .Values.oidc.groupsClaim)
  (list "OGPNET_OPERATOR_GROUPS" .Values.oidc.operatorGroups) }}
{{- if index $pair 1 }}
- name: {{ index $pair 0 }}
  value: {{ index $pair 1 | toString | quote }}
{{- end }}
{{- end }}
{{- with .Values.oidc.existingSecret }}
- name: OGPNET_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.oidc.existingSecretKey }}
{{- end }}
{{- if .Values.mongo.existingSecret }}
- name: OGPNET_MONGO_URI
  valueFrom:
    secretKeyRef:
      name: {{ .Values.mongo.existingSecret }}
      key: {{ .Values.mongo.existingSecretKey }}
{{- else if .Values.mongo.uri }}
- name: OGPNET_MONGO_URI
  value: {{ .Values.mongo.uri | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

"""The control plane's document kinds, named once where every package may import them: the
ingress writes tenants, projects and keys; a shard host's economy sweep only reads projects, and
must not import the ingress package to learn the name."""

from __future__ import annotations

TENANTS, PROJECTS, API_KEYS, PLANS = "tenants", "projects", "api_keys", "plans"

# One document whose `version` moves whenever an admitted key may stop being admitted (a key
# revoked or rotated, a tenant or project changed): open realtime sockets watch it.
CONTROL, ADMISSION_VERSION = "control", "admission-version"

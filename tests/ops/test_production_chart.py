"""The chart with the values the release pipeline deploys (values-staging.yaml,
values-production.yaml), rendered by Helm's own library: every production property holds —
least-privilege identities, NetworkPolicies, spread over nodes and zones, PDBs, resources and
locked-down security contexts on every container, the SLO alerts, MongoDB's backup CronJob."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.ops.test_manifests import CHART, KUBERNETES_VERSION, RUN_AS_USER, one, pod_templates, quantity, render

VARIANTS = ("helm-staging", "helm-production")


@pytest.fixture(params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def docs(variant: str) -> list[dict[str, Any]]:
    return render(variant)


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def all_pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    specs = {role: template["spec"] for role, template in pod_templates(docs).items()}
    for job in of_kind(docs, "CronJob"):
        specs[job["metadata"]["name"]] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return specs


def test_the_production_values_pass_helm_lint_and_the_kubernetes_schemas(docs: list[dict[str, Any]]) -> None:
    import helm_python
    import kubernetes_validate

    for values in ("values-staging.yaml", "values-production.yaml"):
        report = helm_python.lint(
            str(CHART), yaml.safe_load((CHART / values).read_text()), strict=True, kube_version="v1.32.0"
        )
        assert [m for m in report["messages"] if m["severity"] >= 2] + report["errors"] == [], values
    errors = []
    for doc in docs:
        if doc["apiVersion"].startswith(("ray.io/", "monitoring.coreos.com/")):
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message}")
    assert errors == []


def test_the_head_may_only_scale_its_own_cluster_and_workers_hold_no_token(docs: list[dict[str, Any]]) -> None:
    accounts = {sa["metadata"]["name"]: sa for sa in of_kind(docs, "ServiceAccount")}
    specs = all_pod_specs(docs)
    head_account, worker_account = specs["head"]["serviceAccountName"], specs["worker"]["serviceAccountName"]
    assert {head_account, worker_account} == set(accounts)
    assert specs["worker"]["automountServiceAccountToken"] is False
    assert accounts[worker_account]["automountServiceAccountToken"] is False
    (role,) = of_kind(docs, "Role")
    assert not of_kind(docs, "ClusterRole") and not of_kind(docs, "ClusterRoleBinding"), "namespaced only"
    granted = {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"] for verb in rule["verbs"]}  # fmt: skip
    assert granted == {
        ("", "pods", "get"), ("", "pods", "list"), ("", "pods", "watch"), ("", "pods", "patch"),
        ("ray.io", "rayclusters", "get"), ("ray.io", "rayclusters", "patch"),
    }  # fmt: skip
    assert not any("*" in item for item in granted) and ("", "secrets", "get") not in granted
    (binding,) = of_kind(docs, "RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert [s["name"] for s in binding["subjects"]] == [head_account]
    assert all(spec.get("automountServiceAccountToken") is False for name, spec in specs.items() if name != "head")


def test_network_policies_admit_only_ray_peers_the_ingress_and_prometheus(docs: list[dict[str, Any]]) -> None:
    policies = {p["metadata"]["name"].rsplit("-", 1)[1]: p["spec"] for p in of_kind(docs, "NetworkPolicy")}
    assert set(policies) == {"ingress", "egress"}
    for spec in policies.values():
        selected = spec["podSelector"]["matchLabels"]
        for template in pod_templates(docs).values():
            assert selected.items() <= template["metadata"]["labels"].items()
    ingress = policies["ingress"]
    assert ingress["policyTypes"] == ["Ingress"]
    peers, outside = ingress["ingress"]
    assert "ports" not in peers and [p["podSelector"] for p in peers["from"]]
    namespaces = {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in outside["from"]}
    assert namespaces == {"ingress-nginx", "monitoring"}
    assert outside["ports"] == [{"protocol": "TCP", "port": 8000}], "only Serve (the API and /metrics)"
    egress = policies["egress"]["egress"]
    assert {port["port"] for rule in egress for port in rule.get("ports", [])} == {53, 27017, 6379, 443}


def test_workers_spread_over_nodes_and_zones_and_a_pdb_keeps_them_up(variant: str, docs: list[dict[str, Any]]) -> None:
    worker = pod_templates(docs)["worker"]
    anti = worker["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [term["podAffinityTerm"]["topologyKey"] for term in anti] == ["kubernetes.io/hostname"]
    labels = worker["metadata"]["labels"]
    assert anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= labels.items()
    if variant == "helm-production":
        (spread,) = worker["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["maxSkew"] == 1
    pdb = one(docs, "PodDisruptionBudget")["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()


def test_every_container_is_locked_down_and_sized(docs: list[dict[str, Any]]) -> None:
    rayservice = one(docs, "RayService")["spec"]["rayClusterConfig"]
    autoscaler = rayservice["autoscalerOptions"]
    containers = {"autoscaler": (autoscaler, None)}
    for name, spec in all_pod_specs(docs).items():
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == RUN_AS_USER
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in spec["containers"]:
            containers[f"{name}/{container['name']}"] = (container, spec)
    assert len(containers) == 4, "autoscaler, head, worker, mongodump"
    for name, (container, pod) in containers.items():
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"]["drop"] == ["ALL"] and "add" not in context["capabilities"], name
        resources = container["resources"]
        for key in ("cpu", "memory"):
            assert 0 < quantity(resources["requests"][key]) <= quantity(resources["limits"][key]), f"{name} {key}"
        if pod is None:  # KubeRay builds the sidecar's pod: the head's, which runs as non-root
            assert context["runAsNonRoot"] is True
            continue
        assert context["readOnlyRootFilesystem"] is True, name
        writable = {mount["mountPath"] for mount in container["volumeMounts"]}
        empty_dirs = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
        assert "/tmp" in writable, f"{name}: a read-only root needs a writable /tmp"
        tmp = next(mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp")
        assert tmp["name"] in empty_dirs, name


def test_mongodb_is_backed_up_by_a_mongodump_cronjob(docs: list[dict[str, Any]]) -> None:
    (job,) = of_kind(docs, "CronJob")
    spec = job["spec"]
    assert spec["concurrencyPolicy"] == "Forbid" and spec["timeZone"] == "Etc/UTC"
    (container,) = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    script = container["args"][0]
    assert "mongodump" in script and "--oplog" in script and "--gzip" in script
    assert "$LUDEX_MONGO_URL" in script and "LUDEX_MONGO_URL" not in str(container["env"][0].get("value", ""))
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "LUDEX_MONGO_URL"
    volumes = spec["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    assert any(v.get("persistentVolumeClaim", {}).get("claimName") for v in volumes)


def test_the_slo_alerts_ship_with_the_release(docs: list[dict[str, Any]]) -> None:
    (rule,) = of_kind(docs, "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert {group["name"] for group in rule["spec"]["groups"]} == {"ludex-slo-records", "ludex-slo-alerts"}


def test_secrets_come_from_a_secret_manager_not_the_values(docs: list[dict[str, Any]]) -> None:
    assert of_kind(docs, "Secret") == []
    for template in pod_templates(docs).values():
        (container,) = template["spec"]["containers"]
        assert {"secretRef": {"name": "ludex-secrets"}} in container["envFrom"]


def test_the_defaults_render_none_of_the_production_extras() -> None:
    kinds = {doc["kind"] for doc in render("helm-dev")}
    assert not kinds & {"ServiceAccount", "Role", "NetworkPolicy", "PrometheusRule", "CronJob"}

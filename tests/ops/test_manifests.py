"""The Kubernetes manifests (`k8s/`): each overlay renders with `kubectl kustomize`, and the Helm
chart (`k8s/helm/ludex`, with the values of each overlay) with Helm's own Go library through
`helm-python-sdk` (no `helm` binary); the built-in kinds pass the Kubernetes schemas, and the
RayService carries what Ludex depends on. Also the Serve import path they name,
`serve.entrypoint:app`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings
from serve.deployment import APP_NAME
from tests.support.lock import locked_version
from tests.support.services import missing

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod", "helm-dev", "helm-prod")
CHART = ROOT / "k8s" / "helm" / "ludex"
HELM_NAMESPACES = {
    "helm-dev": "ludex-dev",
    "helm-prod": "ludex",
    "helm-staging": "ludex-staging",  # the release pipeline's (tests/ops/test_production_chart.py)
    "helm-production": "ludex",
}
KUBERNETES_VERSION = "1.32.0"
IMAGE = "ghcr.io/ludex/ludex:0.1.0"
RUN_AS_USER = 1000
SETTINGS_KEYS = {f"LUDEX_{name.upper()}" for name in Settings.model_fields}
SECRET_KEYS = {"LUDEX_MONGO_URL", "LUDEX_REDIS_URL", "LUDEX_SECRET_KEY"}


@cache
def _render(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize k8s/overlays/{overlay} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


@cache
def _render_chart(variant: str) -> tuple[dict[str, Any], ...]:
    import helm_python

    values = yaml.safe_load((CHART / f"values-{variant.removeprefix('helm-')}.yaml").read_text())
    chart = helm_python.Chart.load(str(CHART))
    rendered = chart.render(values, name="ludex", namespace=HELM_NAMESPACES[variant], is_install=True)
    texts = [text for path, text in sorted(rendered.items()) if not path.endswith("NOTES.txt")]
    return tuple(doc for text in texts for doc in yaml.safe_load_all(text) if doc)


def render(overlay: str) -> list[dict[str, Any]]:
    if overlay.startswith("helm-"):
        try:
            import helm_python  # noqa: F401
        except ImportError:
            missing("helm-python-sdk is not installed (the dev extras): it renders the Helm chart in k8s/helm")
        return list(_render_chart(overlay))
    if shutil.which("kubectl") is None:
        missing("kubectl is not installed: it renders the kustomize overlays in k8s/")
    return list(_render(overlay))


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [doc for doc in docs if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def cluster(docs: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(docs, "RayService")["spec"]["rayClusterConfig"]
    return spec


def worker_group(docs: list[dict[str, Any]]) -> dict[str, Any]:
    groups = cluster(docs)["workerGroupSpecs"]
    assert len(groups) == 1, "one autoscaling worker group"
    group: dict[str, Any] = groups[0]
    return group


def pod_templates(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    spec = cluster(docs)
    return {"head": spec["headGroupSpec"]["template"], "worker": worker_group(docs)["template"]}


def serve_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(one(docs, "RayService")["spec"]["serveConfigV2"])
    return config


def ingress_deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (application,) = serve_config(docs)["applications"]
    name = f"{config_map(docs)['LUDEX_DEPLOYMENT']}-ingress"
    found = [d for d in application["deployments"] if d["name"] == name]
    assert found, f"serveConfigV2 has no deployment named {name!r}"
    deployment: dict[str, Any] = found[0]
    return deployment


def config_map(docs: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = one(docs, "ConfigMap")["data"]
    return data


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity (`500m`, `2`, `4Gi`) as a number."""
    suffixes = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match, f"not a quantity: {value!r}"
    number, suffix = match.groups()
    return float(number) * suffixes.get(suffix, 1.0) if suffix else float(number)


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def docs(overlay: str) -> list[dict[str, Any]]:
    return render(overlay)


def test_overlay_renders_the_expected_kinds(overlay: str, docs: list[dict[str, Any]]) -> None:
    kinds = sorted(doc["kind"] for doc in docs)
    expected = ["ConfigMap", "Secret", "RayService", "Ingress", "PodDisruptionBudget"]
    if overlay in HELM_NAMESPACES:  # `helm install --create-namespace` makes the namespace
        assert kinds == sorted(expected), "KubeRay creates the Services itself (head, serveService)"
        namespace = HELM_NAMESPACES[overlay]
    else:
        assert kinds == sorted(["Namespace", *expected]), "KubeRay creates the Services itself (head, serveService)"
        namespace = one(docs, "Namespace")["metadata"]["name"]
    namespaces = {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"}
    assert namespaces == {namespace}


def test_built_in_kinds_pass_the_kubernetes_schemas(docs: list[dict[str, Any]]) -> None:
    try:
        import kubernetes_validate
    except ImportError:
        missing("kubernetes-validate is not installed (pip install kubernetes-validate, from the dev extras)")
        return
    rayservice = one(docs, "RayService")
    # The RayService's pod templates and serve Service are core kinds inside a custom resource.
    embedded = [
        {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": f"ludex-{role}"}, "template": template}
        for role, template in pod_templates(docs).items()
    ]
    embedded.append({"apiVersion": "v1", "kind": "Service", **rayservice["spec"]["serveService"]})
    errors = []
    for doc in [d for d in docs if d["kind"] != "RayService"] + embedded:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.absolute_path)}")
    assert errors == []


def test_rayservice_is_kuberay_v1_with_the_release_image(docs: list[dict[str, Any]]) -> None:
    rayservice = one(docs, "RayService")
    assert rayservice["apiVersion"] == "ray.io/v1"
    containers = [c for t in pod_templates(docs).values() for c in t["spec"]["containers"]]
    assert [c["image"] for c in containers] == [IMAGE, IMAGE]
    assert cluster(docs)["rayVersion"] == locked_version("ray"), "every node runs the image's Ray, from uv.lock"


def test_serve_config_deploys_the_entrypoint_with_autoscaling(docs: list[dict[str, Any]]) -> None:
    from ray.serve.schema import ServeDeploySchema

    from serve.entrypoint import EntrypointArgs

    config = serve_config(docs)
    ServeDeploySchema.model_validate(config)  # what the Serve controller accepts
    (application,) = config["applications"]
    assert application["import_path"] == "serve.entrypoint:app"
    assert application["name"] == APP_NAME
    assert application["route_prefix"] == "/"
    assert EntrypointArgs.model_validate(application.get("args", {})).require_mongo
    deployment = ingress_deployment(docs)
    autoscaling = deployment["autoscaling_config"]
    assert 1 <= autoscaling["min_replicas"] <= autoscaling["max_replicas"]
    assert 0 < autoscaling["target_ongoing_requests"] <= deployment["max_ongoing_requests"]
    assert "num_replicas" not in deployment, "autoscaling decides the replica count"
    assert deployment["ray_actor_options"]["num_cpus"] > 0, "replicas must ask for CPU: it drives worker scaling"
    head = pod_templates(docs)["head"]["spec"]["containers"][0]
    serve_ports = [p["containerPort"] for p in head["ports"] if p["name"] == "serve"]
    assert serve_ports == [config["http_options"]["port"]] == [8000]


def test_head_and_one_autoscaling_worker_group(docs: list[dict[str, Any]]) -> None:
    spec = cluster(docs)
    assert spec["enableInTreeAutoscaling"] is True
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0", "no replicas on the head"
    group = worker_group(docs)
    assert 1 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]


def offered(group: dict[str, Any], resource: str) -> float:
    """How much of a custom resource one pod of a group offers (`rayStartParams.resources`)."""
    raw = group["rayStartParams"].get("resources")
    if raw is None:
        return 0.0
    resources: dict[str, float] = json.loads(json.loads(raw) if raw.startswith('"') else raw)
    return float(resources.get(resource, 0.0))


def test_shard_hosts_are_placed_on_workers_that_can_hold_them_all(docs: list[dict[str, Any]]) -> None:
    data = config_map(docs)
    resource = data["LUDEX_SHARD_HOST_RESOURCE"]
    group = worker_group(docs)
    assert offered(cluster(docs)["headGroupSpec"], resource) == 0, "no shard hosts on the head"
    per_worker = offered(group, resource)
    assert per_worker >= 1
    assert per_worker * group["maxReplicas"] >= int(data["LUDEX_SHARDS"]), "the autoscaler can place every host"


def test_probes_check_ray_on_the_head_and_the_serve_proxy_on_workers(docs: list[dict[str, Any]]) -> None:
    head = pod_templates(docs)["head"]["spec"]["containers"][0]
    worker = pod_templates(docs)["worker"]["spec"]["containers"][0]
    assert head["readinessProbe"]["httpGet"] == {"path": "/api/gcs_healthz", "port": 8265}
    assert head["livenessProbe"]["httpGet"] == {"path": "/api/local_raylet_healthz", "port": 52365}
    # KubeRay deploys serveConfigV2 only once the head is Ready: a head probe on a Ludex route
    # would wait for the app forever (or restart the head before it is deployed).
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert not head.get(probe, {}).get("httpGet", {}).get("path", "").startswith("/v1/"), probe
    assert worker["readinessProbe"]["httpGet"] == {"path": "/-/healthz", "port": 8000}
    assert worker["livenessProbe"]["httpGet"] == {"path": "/api/local_raylet_healthz", "port": 52365}


def test_settings_come_from_the_config_map_and_the_secret(docs: list[dict[str, Any]]) -> None:
    data = config_map(docs)
    secret = one(docs, "Secret")
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    assert secret_keys == SECRET_KEYS
    assert set(data) <= SETTINGS_KEYS, f"unknown settings: {set(data) - SETTINGS_KEYS}"
    assert not set(data) & SECRET_KEYS, "credentials belong in the Secret"
    assert {"LUDEX_SHARDS", "LUDEX_SNAPSHOT_EVERY", "LUDEX_DEPLOYMENT"} <= set(data)
    assert int(data["LUDEX_SHARDS"]) >= 1
    names = {"configMapRef": one(docs, "ConfigMap")["metadata"]["name"], "secretRef": secret["metadata"]["name"]}
    for role, template in pod_templates(docs).items():
        (container,) = template["spec"]["containers"]
        refs = {kind: source[kind]["name"] for source in container["envFrom"] for kind in source}
        assert refs == names, f"{role}: envFrom must name the rendered ConfigMap (with its hash) and Secret"


def test_pods_run_as_non_root_without_privileges(docs: list[dict[str, Any]]) -> None:
    for role, template in pod_templates(docs).items():
        pod = template["spec"]["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == RUN_AS_USER, role
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", role
        for container in template["spec"]["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, role
            assert context["capabilities"]["drop"] == ["ALL"], role
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            if context.get("readOnlyRootFilesystem"):
                assert {"/tmp", "/data"} <= mounts, f"{role}: Ray and Ludex write there"
    autoscaler = cluster(docs)["autoscalerOptions"]["securityContext"]
    assert autoscaler["runAsNonRoot"] is True and autoscaler["allowPrivilegeEscalation"] is False


def test_containers_request_and_limit_cpu_and_memory(docs: list[dict[str, Any]]) -> None:
    containers = {role: t["spec"]["containers"][0] for role, t in pod_templates(docs).items()}
    containers["autoscaler"] = cluster(docs)["autoscalerOptions"]
    for role, container in containers.items():
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request, limit = quantity(resources["requests"][resource]), quantity(resources["limits"][resource])
            assert 0 < request <= limit, f"{role} {resource}"
        assert resources["requests"]["memory"] == resources["limits"]["memory"], f"{role}: no memory overcommit"


@pytest.mark.parametrize("dev_name, prod_name", [("dev", "prod"), ("helm-dev", "helm-prod")])
def test_dev_and_prod_differ_as_intended(dev_name: str, prod_name: str) -> None:
    dev, prod = render(dev_name), render(prod_name)
    assert {d["metadata"].get("namespace") for d in dev} != {d["metadata"].get("namespace") for d in prod}
    assert config_map(dev)["LUDEX_SHARDS"] == "2"
    assert int(config_map(prod)["LUDEX_SHARDS"]) > 2
    dev_workers, prod_workers = worker_group(dev), worker_group(prod)
    assert dev_workers["minReplicas"] == 1
    assert prod_workers["minReplicas"] > dev_workers["minReplicas"]
    assert prod_workers["maxReplicas"] > dev_workers["maxReplicas"]
    for role in ("head", "worker"):
        for resource in ("cpu", "memory"):
            dev_limit = pod_templates(dev)[role]["spec"]["containers"][0]["resources"]["limits"][resource]
            prod_limit = pod_templates(prod)[role]["spec"]["containers"][0]["resources"]["limits"][resource]
            assert quantity(prod_limit) > quantity(dev_limit), f"{role} {resource}"
    dev_scaling = ingress_deployment(dev)["autoscaling_config"]
    prod_scaling = ingress_deployment(prod)["autoscaling_config"]
    assert prod_scaling["min_replicas"] >= 3
    assert prod_scaling["min_replicas"] > dev_scaling["min_replicas"]
    assert prod_scaling["max_replicas"] > dev_scaling["max_replicas"]
    pdb = one(prod, "PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] > one(dev, "PodDisruptionBudget")["spec"]["minAvailable"]


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_the_helm_chart_deploys_what_the_kustomize_overlay_does(variant: str) -> None:
    helm, kustomize = render(f"helm-{variant}"), render(variant)
    assert config_map(helm) == config_map(kustomize)
    assert serve_config(helm) == serve_config(kustomize)
    assert one(helm, "Secret")["stringData"] == one(kustomize, "Secret")["stringData"]
    helm_group, kustomize_group = worker_group(helm), worker_group(kustomize)
    for key in ("replicas", "minReplicas", "maxReplicas", "groupName"):
        assert helm_group[key] == kustomize_group[key], key
    resource = config_map(helm)["LUDEX_SHARD_HOST_RESOURCE"]
    assert offered(helm_group, resource) == offered(kustomize_group, resource)
    for role in ("head", "worker"):
        helm_pod, kustomize_pod = pod_templates(helm)[role]["spec"], pod_templates(kustomize)[role]["spec"]
        for key in ("securityContext", "volumes", "topologySpreadConstraints"):
            assert helm_pod.get(key) == kustomize_pod.get(key), f"{role} {key}"
        (helm_container,), (kustomize_container,) = helm_pod["containers"], kustomize_pod["containers"]
        for key in ("image", "resources", "readinessProbe", "livenessProbe", "securityContext", "volumeMounts"):
            assert helm_container.get(key) == kustomize_container.get(key), f"{role} {key}"
    assert (
        one(helm, "PodDisruptionBudget")["spec"]["minAvailable"]
        == (one(kustomize, "PodDisruptionBudget")["spec"]["minAvailable"])
    )
    helm_ingress, kustomize_ingress = one(helm, "Ingress"), one(kustomize, "Ingress")
    assert helm_ingress["spec"]["tls"] == kustomize_ingress["spec"]["tls"]
    assert helm_ingress["metadata"]["annotations"] == kustomize_ingress["metadata"]["annotations"]


def test_the_helm_chart_passes_helm_lint() -> None:
    render("helm-dev")  # skips (or fails under CI) without helm-python-sdk
    import helm_python

    for values in ("values.yaml", "values-dev.yaml", "values-prod.yaml"):
        report = helm_python.lint(
            str(CHART), yaml.safe_load((CHART / values).read_text()), strict=True, kube_version="v1.32.0"
        )
        problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
        assert problems == [], f"{values}: {problems}"


def test_pdb_selects_the_worker_pods_only(docs: list[dict[str, Any]]) -> None:
    spec = one(docs, "PodDisruptionBudget")["spec"]
    selector = spec["selector"]["matchLabels"]
    templates = pod_templates(docs)
    assert selector.items() <= templates["worker"]["metadata"]["labels"].items()
    assert not selector.items() <= templates["head"]["metadata"]["labels"].items()
    # RayCluster has no scale subresource: only an integer minAvailable works for its pods, and
    # it must leave room to evict one worker at the group's minimum size.
    assert "maxUnavailable" not in spec
    assert isinstance(spec["minAvailable"], int)
    assert 0 <= spec["minAvailable"] < worker_group(docs)["minReplicas"]
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow", "workers without a Serve proxy are never Ready"


def test_ingress_terminates_tls_in_front_of_the_serve_service(docs: list[dict[str, Any]]) -> None:
    ingress = one(docs, "Ingress")
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert any(key.startswith("cert-manager.io/") for key in ingress["metadata"]["annotations"])
    tls_hosts = {host for tls in spec["tls"] for host in tls["hosts"]}
    assert all(tls["secretName"] for tls in spec["tls"])
    serve_service = one(docs, "RayService")["spec"]["serveService"]
    for rule in spec["rules"]:
        assert rule["host"] in tls_hosts
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == serve_service["metadata"]["name"]
            assert backend["port"]["name"] in {p["name"] for p in serve_service["spec"]["ports"]}


def test_importing_the_entrypoint_starts_nothing() -> None:
    code = (
        "import sys\n"
        "import serve.entrypoint as entrypoint\n"
        "assert 'ray' not in sys.modules, 'importing serve.entrypoint imported ray'\n"
        "import inspect\n"
        "assert len(inspect.signature(entrypoint.app).parameters) == 1\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_entrypoint_builds_the_ingress_and_starts_shard_hosts_without_the_demo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ray.serve import Application
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary

    import actors.cluster
    import serve.launcher
    from serve import entrypoint

    started: list[Settings] = []
    bootstrapped: list[object] = []
    monkeypatch.setattr(actors.cluster, "start_shard_hosts", lambda settings, **options: started.append(settings) or [])
    monkeypatch.setattr(actors.cluster, "start_webhook_worker", lambda settings: None)
    monkeypatch.setattr(serve.launcher, "bootstrap_demo", lambda *args: bootstrapped.append(args))
    monkeypatch.setenv("LUDEX_MONGO_URL", "mongodb://mongo.invalid:27017/?replicaSet=rs0")
    monkeypatch.setenv("LUDEX_SHARDS", "3")
    monkeypatch.setenv("LUDEX_DEPLOYMENT", "blue")
    built = call_user_app_builder_with_args_if_necessary(entrypoint.app, {"require_mongo": True})
    assert isinstance(built, Application)
    assert built._bound_deployment.name == "blue-ingress"
    assert [(s.shards, s.deployment) for s in started] == [(3, "blue")]
    assert bootstrapped == [], "the demo tenant is for `ludex serve` only"


def test_entrypoint_refuses_the_pod_local_sqlite_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from serve import entrypoint

    monkeypatch.delenv("LUDEX_MONGO_URL", raising=False)
    with pytest.raises(RuntimeError, match="LUDEX_MONGO_URL"):
        entrypoint.app({})
    with pytest.raises(ValueError, match="(?i)extra"):
        entrypoint.app({"replica": 2})

"""The Kubernetes manifests: valid for the API server, consistent with each other and the image."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kubernetes_validate
import pytest
import yaml

from service.config import Settings

if TYPE_CHECKING:
    from conftest import Stage

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
ABSOLUTE_PATH = re.compile(r"(?<![\w./])/(?=[\w.])")

Manifest = dict[str, Any]


def documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def listed_files(key: str) -> list[Path]:
    """Files named by the kustomizations' ``resources`` (directories left out) or ``patches``."""
    found = []
    for kustomization in kustomizations():
        spec = documents(kustomization)[0]
        entries = spec.get(key, [])
        names = [entry["path"] if isinstance(entry, dict) else entry for entry in entries]
        found += [(kustomization.parent / name).resolve() for name in names]
    return sorted(path for path in found if path.is_file())


def resource(kind: str, name: str) -> Manifest:
    for path in listed_files("resources"):
        for doc in documents(path):
            if (doc["kind"], doc["metadata"]["name"]) == (kind, name):
                return doc
    raise LookupError(f"no {kind} {name} under {K8S}")


def apply_json_patch(document: Manifest, operations: list[Manifest]) -> Manifest:
    """RFC 6902 ``add`` operations, as kustomize applies them."""
    patched = copy.deepcopy(document)
    for operation in operations:
        assert operation["op"] == "add", operation
        *parents, last = operation["path"].lstrip("/").split("/")
        target: Any = patched
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target.insert(len(target) if last == "-" else int(last), operation["value"])
        else:
            target[last] = operation["value"]
    return patched


def shared_volume_deployment() -> Manifest:
    [patch] = [p for p in listed_files("patches") if p.parent.name == "shared-volume"]
    return apply_json_patch(resource("Deployment", "stance"), documents(patch)[0])


def pod_spec(workload: Manifest) -> Manifest:
    spec = workload["spec"]
    template = (
        spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
    )
    return dict(template["spec"])


def serving_container() -> Manifest:
    [container] = pod_spec(resource("Deployment", "stance"))["containers"]
    return dict(container)


def probe_target(probe: Manifest) -> tuple[str, str]:
    return probe["httpGet"]["path"], probe["httpGet"]["port"]


@pytest.fixture
def image_user(dockerfile_stages: tuple[Stage, ...]) -> int:
    return int(dockerfile_stages[-1].last("USER").value.split(":")[0])


@pytest.fixture
def image_env(dockerfile_stages: tuple[Stage, ...]) -> dict[str, str]:
    return dockerfile_stages[-1].env()


def test_every_manifest_is_listed_by_a_kustomization() -> None:
    listed = set(listed_files("resources") + listed_files("patches") + kustomizations())
    assert set(K8S.rglob("*.yaml")) == listed


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", listed_files("resources"), ids=lambda p: str(p.relative_to(K8S)))
def test_resource_is_valid_kubernetes(path: Path, version: str) -> None:
    for doc in documents(path):
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_shared_volume_patch_gives_a_valid_deployment(version: str) -> None:
    kubernetes_validate.validate(shared_volume_deployment(), version, strict=True)


def test_probes_check_health_and_readiness_on_the_http_port() -> None:
    container = serving_container()
    ports = {port["name"] for port in container["ports"]}
    assert probe_target(container["startupProbe"]) == ("/health", "http")
    assert probe_target(container["livenessProbe"]) == ("/health", "http")
    assert probe_target(container["readinessProbe"]) == ("/ready", "http")
    assert "http" in ports


def test_container_port_is_the_image_port(dockerfile_stages: tuple[Stage, ...]) -> None:
    [port] = serving_container()["ports"]
    assert str(port["containerPort"]) == dockerfile_stages[-1].last("EXPOSE").value


def test_service_routes_to_the_pods_by_port_name() -> None:
    service, deployment = resource("Service", "stance"), resource("Deployment", "stance")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    port_names = {port["name"] for port in serving_container()["ports"]}
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names


def test_threads_follow_the_cpu_limit() -> None:
    container = serving_container()
    env = {item["name"]: item for item in container["env"]}
    threads = env["STANCE_THREADS"]
    if "value" in threads:
        assert threads["value"] == container["resources"]["limits"]["cpu"]
    else:
        assert threads["valueFrom"]["resourceFieldRef"] == {
            "resource": "limits.cpu",
            "divisor": "1",
        }


def test_one_worker_per_pod_runs_the_image_command() -> None:
    container = serving_container()
    assert "command" not in container and "args" not in container
    assert len(pod_spec(resource("Deployment", "stance"))["containers"]) == 1


def test_rollout_never_drops_below_the_desired_pods() -> None:
    strategy = resource("Deployment", "stance")["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1


def test_autoscaler_owns_the_deployment_replicas() -> None:
    hpa, deployment = (
        resource("HorizontalPodAutoscaler", "stance"),
        resource("Deployment", "stance"),
    )
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == (deployment["apiVersion"], deployment["kind"])
    assert target["name"] == deployment["metadata"]["name"]
    assert "replicas" not in deployment["spec"]
    assert hpa["spec"]["minReplicas"] >= 2
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]


def test_grace_period_outlasts_the_service_shutdown_timeout() -> None:
    grace = pod_spec(resource("Deployment", "stance"))["terminationGracePeriodSeconds"]
    assert grace > Settings.model_fields["shutdown_timeout_s"].default


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Deployment", "stance"), ("Job", "stance-seed"), ("CronJob", "stance-retrain")],
)
def test_pods_run_as_the_image_user(kind: str, name: str, image_user: int) -> None:
    security = pod_spec(resource(kind, name))["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == image_user


@pytest.mark.parametrize(
    "workload",
    [shared_volume_deployment, lambda: resource("CronJob", "stance-retrain")],
    ids=["deployment", "retrain"],
)
def test_shared_volumes_mount_where_the_image_reads_them(
    workload: Any, image_env: dict[str, str]
) -> None:
    spec = pod_spec(workload())
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in spec["volumes"]
        if "persistentVolumeClaim" in v
    }
    mounts = {m["mountPath"]: claims.get(m["name"]) for m in spec["containers"][0]["volumeMounts"]}
    assert mounts[image_env["STANCE_MODELS_DIR"]] == "stance-models"
    assert mounts[image_env["STANCE_LABELS_DIR"]] == "stance-labels"


def seed_volumes(root: Path) -> subprocess.CompletedProcess[str]:
    """Run the seed Job's script with every container path moved under ``root``."""
    [container] = pod_spec(resource("Job", "stance-seed"))["containers"]
    script = ABSOLUTE_PATH.sub(f"{root}/", container["args"][0])
    workdir = root / container["workingDir"].lstrip("/")
    return subprocess.run(
        [*container["command"], script], cwd=workdir, capture_output=True, text=True, check=False
    )


def image_tree(root: Path) -> None:
    for directory in ("app/models/v1", "app/labels", "shared/models", "shared/labels"):
        (root / directory).mkdir(parents=True)
    (root / "app/models/v1/model.safetensors").write_text("weights")
    (root / "app/models/current").symlink_to("v1")
    (root / "app/labels/seeds.jsonl").write_text("{}\n")


def test_seed_copies_the_image_model_and_labels_into_empty_volumes(tmp_path: Path) -> None:
    image_tree(tmp_path)
    result = seed_volumes(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "shared/models/v1/model.safetensors").read_text() == "weights"
    assert (tmp_path / "shared/models/current").readlink() == Path("v1")
    assert (tmp_path / "shared/labels/seeds.jsonl").exists()


def test_seed_keeps_what_the_volumes_already_hold(tmp_path: Path) -> None:
    image_tree(tmp_path)
    (tmp_path / "shared/models/v2").mkdir()
    (tmp_path / "shared/models/current").symlink_to("v2")
    (tmp_path / "shared/labels/seeds.jsonl").write_text("newer\n")
    result = seed_volumes(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "shared/models/current").readlink() == Path("v2")
    assert (tmp_path / "shared/labels/seeds.jsonl").read_text() == "newer\n"

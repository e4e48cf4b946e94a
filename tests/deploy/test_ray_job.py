"""deploy/ray: the KubeRay RayJob for ``stance-analyze --engine ray``, and its image.

Kubernetes has no schema for KubeRay's resource, so its pod templates (head, workers,
submitter) are validated as Kubernetes pod templates, strictly, like the other manifests; its
own fields are checked against the RayJob API's, and the job against the CLI, the image and
the volumes the service uses.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sysconfig
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

from training.analyze import parser

if TYPE_CHECKING:
    from conftest import Stage

RAY = Path(__file__).resolve().parents[2] / "deploy" / "ray"
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
RAYJOB_FIELDS = {
    "entrypoint",
    "runtimeEnvYAML",
    "jobId",
    "shutdownAfterJobFinishes",
    "ttlSecondsAfterFinished",
    "activeDeadlineSeconds",
    "backoffLimit",
    "rayClusterSpec",
    "clusterSelector",
    "submissionMode",
    "submitterPodTemplate",
    "submitterConfig",
    "entrypointNumCpus",
    "entrypointNumGpus",
    "entrypointResources",
    "suspend",
    "managedBy",
}
CLUSTER_FIELDS = {
    "rayVersion",
    "enableInTreeAutoscaling",
    "autoscalerOptions",
    "headServiceAnnotations",
    "headGroupSpec",
    "workerGroupSpecs",
    "suspend",
    "managedBy",
    "gcsFaultToleranceOptions",
    "authOptions",
}
HEAD_FIELDS = {"serviceType", "headService", "enableIngress", "rayStartParams", "template"}
WORKER_FIELDS = {
    "groupName",
    "replicas",
    "minReplicas",
    "maxReplicas",
    "idleTimeoutSeconds",
    "rayStartParams",
    "template",
    "scaleStrategy",
    "numOfHosts",
    "suspend",
}
RAY_PIN = re.compile(r'"ray\[[\w,]+\]==([\d.]+)"')

Manifest = dict[str, Any]


def load(name: str) -> Manifest:
    [document] = [d for d in yaml.safe_load_all((RAY / name).read_text()) if d is not None]
    return dict(document)


def rayjob() -> Manifest:
    return load("rayjob.yaml")


def cluster() -> Manifest:
    return dict(rayjob()["spec"]["rayClusterSpec"])


def templates() -> dict[str, Manifest]:
    spec = rayjob()["spec"]
    found = {"head": cluster()["headGroupSpec"]["template"]}
    found |= {f"worker {g['groupName']}": g["template"] for g in cluster()["workerGroupSpecs"]}
    return found | {"submitter": spec["submitterPodTemplate"]}


def cluster_pods() -> list[Manifest]:
    return [t["spec"] for name, t in templates().items() if name != "submitter"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", list(templates()))
def test_pod_templates_are_valid_kubernetes(name: str, version: str) -> None:
    pod_template = {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": "stance-analyze"},
        "template": templates()[name],
    }
    kubernetes_validate.validate(pod_template, version, strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_archive_volume_is_valid_kubernetes(version: str) -> None:
    kubernetes_validate.validate(load("archive-volume.yaml"), version, strict=True)


def test_the_rayjob_sets_only_kuberay_fields() -> None:
    job = rayjob()
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    assert set(job["spec"]) <= RAYJOB_FIELDS
    assert set(cluster()) <= CLUSTER_FIELDS
    assert set(cluster()["headGroupSpec"]) <= HEAD_FIELDS
    for group in cluster()["workerGroupSpecs"]:
        assert set(group) <= WORKER_FIELDS
        assert all(isinstance(value, str) for value in group["rayStartParams"].values())


def test_the_entrypoint_is_stance_analyze_on_this_cluster() -> None:
    command, *argv = shlex.split(rayjob()["spec"]["entrypoint"])
    args = parser().parse_args(argv)
    worker_cpus = sum(
        group["replicas"] * int(group["rayStartParams"]["num-cpus"])
        for group in cluster()["workerGroupSpecs"]
    )
    assert command == "stance-analyze"
    assert (args.engine, args.address) == ("ray", "auto")
    assert args.workers * args.worker_cpus == worker_cpus


def test_worker_pods_give_ray_the_cpus_they_are_limited_to() -> None:
    for group in cluster()["workerGroupSpecs"]:
        [container] = group["template"]["spec"]["containers"]
        assert container["resources"]["limits"]["cpu"] == group["rayStartParams"]["num-cpus"]


def test_cluster_pods_read_the_service_volumes_where_the_image_does(
    dockerfile_stages: tuple[Stage, ...],
) -> None:
    env = dockerfile_stages[-1].env()
    for spec in cluster_pods():
        claims = {
            v["name"]: v["persistentVolumeClaim"]["claimName"]
            for v in spec["volumes"]
            if "persistentVolumeClaim" in v
        }
        mounts = {
            m["mountPath"]: claims.get(m["name"]) for m in spec["containers"][0]["volumeMounts"]
        }
        assert mounts[env["STANCE_MODELS_DIR"]] == "stance-models"
        assert mounts[env["STANCE_LABELS_DIR"]] == "stance-labels"
        assert mounts["/app/archive"] == load("archive-volume.yaml")["metadata"]["name"]


def test_pods_run_as_the_image_user(dockerfile_stages: tuple[Stage, ...]) -> None:
    user = int(dockerfile_stages[-1].last("USER").value.split(":")[0])
    for spec in [t["spec"] for t in templates().values()]:
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == user


def test_the_image_runs_a_ray_the_distributed_extra_allows(repo_root: Path) -> None:
    [pinned] = RAY_PIN.findall((RAY / "Dockerfile").read_text())
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    [ray] = [Requirement(r) for r in project["optional-dependencies"]["distributed"]]
    assert pinned == cluster()["rayVersion"]
    assert ray.specifier.contains(pinned)


def test_hadolint_reports_nothing_on_the_ray_image() -> None:
    hadolint = Path(sysconfig.get_path("scripts")) / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(RAY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")

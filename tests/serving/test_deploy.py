"""The Kubernetes example is valid against the Kubernetes schemas and probes endpoints
that exist."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from serve.settings import ROOT

MANIFEST = ROOT / "deploy" / "kubernetes.yaml"


def test_manifests_validate_strictly_against_the_kubernetes_schemas():
    validator = shutil.which("kubernetes-validate", path=str(Path(sys.executable).parent))
    if validator is None:
        pytest.fail("kubernetes-validate is not installed (requirements-dev.txt)")
    done = subprocess.run(
        [validator, "--strict", str(MANIFEST)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    assert all(f"{kind.lower()}/draw-a-digit" in done.stdout for kind in kinds)


def test_the_probes_use_the_v2_health_endpoints_of_the_app(client):
    documents = {d["kind"]: d for d in yaml.safe_load_all(MANIFEST.read_text())}
    container = documents["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    paths = {
        container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    assert paths == {"/v2/health/ready", "/v2/health/live"}
    assert all(client.get(path).status_code == 200 for path in paths)
    hpa = documents["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == documents["Deployment"]["metadata"]["name"]
    assert container["resources"]["requests"]["cpu"]  # the HPA's utilisation needs it

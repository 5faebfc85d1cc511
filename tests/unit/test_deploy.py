"""The deployment examples under deploy/ say what the README promises, and the README names
each of them. (No container runtime in CI: their shape is checked, not a build.)"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dksync.config import folder

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_names_every_deploy_file() -> None:
    files = [p.relative_to(ROOT).as_posix() for p in DEPLOY.rglob("*") if p.is_file()]
    assert len(files) >= 5
    for name in files:
        assert f"({name})" in README, f"the README does not name {name}"


def test_dockerfile_is_slim_non_root_with_the_state_on_a_volume() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert 'VOLUME ["/data"]' in text and 'ENTRYPOINT ["dksync"]' in text
    for source in re.findall(r"^COPY (?!--)(.+) \S+$", text, re.M):
        for name in source.split():
            assert (ROOT / name).exists(), f"the Dockerfile copies {name}, which is missing"


def test_kubernetes_cronjob_forbids_overlap_and_keeps_the_state() -> None:
    claim, job = yaml.safe_load_all((DEPLOY / "kubernetes" / "cronjob.yaml").read_text())
    assert claim["kind"] == "PersistentVolumeClaim" and job["kind"] == "CronJob"
    spec = job["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["state"] == "/data" and pod["securityContext"]["runAsNonRoot"] is True


def test_systemd_service_and_timer() -> None:
    service = (DEPLOY / "systemd" / "dksync.service").read_text()
    timer = (DEPLOY / "systemd" / "dksync.timer").read_text()
    assert re.search(r"^ExecStart=\S+/dksync -q run -c \S+$", service, re.M)
    assert "StateDirectory=dksync" in service and "Type=oneshot" in service
    assert re.search(r"^OnCalendar=\S+$", timer, re.M) and "WantedBy=timers.target" in timer


COMPANIES = DEPLOY / "kubernetes" / "companies"


def _kustomize(company: str) -> dict[str, dict[str, Any]]:
    """What ``kubectl apply -k`` makes of one company's folder, for the transformations it
    uses (nameSuffix with the claim's reference, labels, JSON patches that replace)."""
    overlay = yaml.safe_load((COMPANIES / company / "kustomization.yaml").read_text())
    assert overlay["resources"] == ["../base"]
    base = yaml.safe_load((COMPANIES / "base" / "kustomization.yaml").read_text())
    found: dict[str, dict[str, Any]] = {}
    for name in base["resources"]:
        for item in yaml.safe_load_all((COMPANIES / "base" / name).read_text()):
            found[item["kind"]] = copy.deepcopy(item)
    suffix = overlay["nameSuffix"]
    for item in found.values():
        item["metadata"]["name"] += suffix
        item["metadata"]["labels"] = dict(overlay["labels"][0]["pairs"])
    pod = found["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    for volume in pod["volumes"]:
        if "persistentVolumeClaim" in volume:
            volume["persistentVolumeClaim"]["claimName"] += suffix
    for patch in overlay["patches"]:
        assert patch["target"] == {"kind": "CronJob", "name": "dksync"}
        for op in yaml.safe_load(patch["patch"]):
            assert op["op"] == "replace"
            *parents, last = op["path"].strip("/").split("/")
            node: Any = found["CronJob"]
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            key = int(last) if isinstance(node, list) else last
            node[key] = op["value"]
    return found


def test_kubernetes_companies_are_one_cronjob_each_with_its_own_state() -> None:
    top = yaml.safe_load((COMPANIES / "kustomization.yaml").read_text())
    companies = top["resources"]
    files = top["configMapGenerator"][0]["files"]
    assert len(companies) >= 2 and "config/_defaults.yaml" in files
    assert sorted(files) == sorted(
        ["config/_defaults.yaml", *(f"config/{c}.yaml" for c in companies)]
    )
    claims = set()
    for company in companies:
        made = _kustomize(company)
        job, claim = made["CronJob"], made["PersistentVolumeClaim"]
        assert job["metadata"]["name"] == f"dksync-{company}"
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        args = pod["containers"][0]["args"]
        assert args[args.index("--company") + 1] == company and args[-1] == "run"
        assert args[args.index("-c") + 1] == "/config"
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["state"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        assert volumes["secrets"]["secret"]["secretName"] == f"dksync-secrets-{company}"
        assert volumes["config"]["configMap"]["name"] == top["configMapGenerator"][0]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        claims.add(claim["metadata"]["name"])
        raw = folder.merged(COMPANIES / "config", company, Path("/unused"))
        assert raw["state"]["path"] == f"/data/{company}.sqlite"
        assert raw["moment"]["company"] and raw["dkplus"]["token_file"] == "/secrets/dkplus-token"
    assert len(claims) == len(companies), "every company has its own state volume"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_renders_what_the_shape_test_reads() -> None:
    done = subprocess.run(
        ["kubectl", "kustomize", str(COMPANIES)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    rendered = list(yaml.safe_load_all(done.stdout))
    companies = yaml.safe_load((COMPANIES / "kustomization.yaml").read_text())["resources"]
    for company in companies:
        for kind, item in _kustomize(company).items():
            same = [r for r in rendered if r["kind"] == kind and r["metadata"] == item["metadata"]]
            assert same and same[0]["spec"] == item["spec"], (company, kind)
    assert [r["metadata"]["name"] for r in rendered if r["kind"] == "ConfigMap"] == [
        "dksync-companies"
    ]

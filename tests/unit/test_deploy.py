"""The deployment examples under deploy/ say what the README promises, and the README names
each of them. (No container runtime in CI: their shape is checked, not a build.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

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

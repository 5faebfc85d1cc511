"""``make demo``: the main job, shown against the sandbox from a clean start.

Starts both sandbox servers with generated data, then runs the real ``dksync`` command:
a first full sync, a second run with nothing to do, and a third after a few changes in
Moment (a renamed customer, a renamed project, a fixed bad record).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from dksync.sandbox.pair import Sandbox


def _step(title: str, config: Path, *args: str) -> None:
    print(f"\n=== {title}\n$ dksync {' '.join(args)} -c {config.name}", flush=True)
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "110")}
    done = subprocess.run(
        [sys.executable, "-m", "dksync", *args, "-c", str(config)], env=env, check=False
    )
    print(f"(exit code {done.returncode})", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dksync-demo-") as folder, Sandbox(seed=1) as sb:
        config = Path(folder) / "dksync.yaml"
        config.write_text(sb.config_yaml(str(Path(folder) / "state.sqlite")), encoding="utf-8")
        print(f"Sandbox up: Moment {sb.moment.url}, DK+ {sb.dkplus.url}")
        print(
            f"Generated: {len(sb.dataset.customers)} customers, {len(sb.dataset.projects)} "
            f"projects, {len(sb.dataset.invoices)} invoices (some bad on purpose)"
        )
        _step("First run: everything eligible goes to DK+", config, "run")
        _step("Second run: nothing changed, nothing written", config, "run")
        customer, project = sb.dataset.customers[0], sb.dataset.projects[0]
        bad = next(c for c in sb.dataset.customers if len(c.number) > 12)
        sb.moment.change("customers", customer.id, lambda c: replace(c, phone="+354 555 0000"))
        sb.moment.change("projects", project.id, lambda p: replace(p, name="Nýtt nafn"))
        sb.moment.change("customers", bad.id, lambda c: replace(c, number="10999"))
        print(
            f"\nChanged in Moment: customer {customer.number}'s phone, project "
            f"{project.number}'s name, and the 13-character customer number → 10999"
        )
        _step("Preview of the third run", config, "run", "--dry-run")
        _step("Third run: the update, the drift report and the fixed record", config, "run")


if __name__ == "__main__":
    main()

"""The Pulumi CLI and fresh stacks for bench/clone_bench.py."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def pulumi_bin_dir() -> Path:
    """Return the folder of the Pulumi CLI from scripts/pulumi-toolchain.sh.

    The script builds the CLI once per machine when it is missing.
    """
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "pulumi-toolchain.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(
            "the Pulumi CLI is missing and could not be built:\n" + result.stderr
        )
    return Path(result.stdout.strip().splitlines()[-1])


class StackFactory:
    """Create stacks that each have their own project folder and file backend.

    Every stack's commands reach EC2 at `endpoint` with the dummy credentials
    of this process, and get `region` as `aws:region`.
    """

    def __init__(self, root: Path, bin_dir: Path, endpoint: str, region: str) -> None:
        from pulumi import automation as auto

        self.root = root
        self.region = region
        self.command = auto.PulumiCommand(root=str(bin_dir.parent))
        self._numbers = itertools.count(1)
        # The language host and the dynamic provider start `python3` from
        # PATH, so this interpreter's folder comes first.
        path = os.pathsep.join(
            [str(Path(sys.executable).parent), str(bin_dir), os.environ["PATH"]]
        )
        self.env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PATH": path,
            "PULUMI_HOME": str(root / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
        }

    def create(self, program: Path, config: dict[str, str]) -> Any:
        from pulumi import automation as auto

        number = next(self._numbers)
        project_dir = self.root / f"project-{number}"
        project_dir.mkdir()
        (project_dir / "Pulumi.yaml").write_text(
            f"name: clone-bench-{number}\nruntime: python\nmain: {program}\n"
        )
        backend = self.root / f"backend-{number}"
        backend.mkdir()
        stack = auto.create_stack(
            f"bench{number}",
            work_dir=str(project_dir),
            opts=auto.LocalWorkspaceOptions(
                env_vars={**self.env, "PULUMI_BACKEND_URL": backend.as_uri()},
                pulumi_command=self.command,
            ),
        )
        stack.set_config("aws:region", auto.ConfigValue(self.region))
        for key, value in config.items():
            stack.set_config(key, auto.ConfigValue(value))
        return stack

"""examples/pipeline/run.sh, run exactly as a CI job would, against moto."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COPY_REGION, EXAMPLES
from tests.helpers import describe

pytestmark = pytest.mark.e2e


@pytest.fixture
def pipeline(
    tmp_path: Path, pulumi_env: dict[str, str]
) -> Iterator[tuple[Path, dict[str, str]]]:
    """Copy the examples to tmp_path, so that stack files stay out of the repo."""
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "pipeline", examples / "pipeline")
    shutil.copytree(EXAMPLES / "foundation", examples / "foundation")
    backend = tmp_path / "backend"
    backend.mkdir()
    env = {**pulumi_env, "PULUMI_BACKEND_URL": backend.as_uri(), "STACK": "ci"}
    folder = examples / "pipeline"
    yield folder, env
    subprocess.run(
        ["pulumi", "destroy", "--yes", "--non-interactive", "--stack", "ci"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )


def test_pipeline_picks_the_newest_copy(
    pipeline: tuple[Path, dict[str, str]], ec2: Any
) -> None:
    folder, env = pipeline

    result = subprocess.run(
        ["bash", "run.sh"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lineage = json.loads((folder / "lineage.json").read_text())
    newest = (folder / "newest-image.txt").read_text().strip()
    in_copy_region = [node for node in lineage if node["region"] == COPY_REGION]

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(in_copy_region) >= 1
    assert (
        newest == max(in_copy_region, key=lambda n: n["create_timestamp"])["image_id"]
    )
    assert describe(ec2(COPY_REGION), newest)["State"] == "available"
    assert result.stdout.splitlines()[-1] == f"newest image in {COPY_REGION}: {newest}"


def test_pick_newest_fails_without_a_match(tmp_path: Path) -> None:
    result = subprocess.run(
        ["python3", str(EXAMPLES / "pipeline" / "pick_newest.py"), "--region", "xx"],
        input=json.dumps([]),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "no available image in the lineage matches" in result.stderr

"""Installing a newer build of the package, then `up`, changes nothing.

The stack's state holds the provider as a reference to
`amitools_pulumi.provider`, so an upgrade runs the new code against the old
state. Each build here is a real wheel of this checkout, its version set in
`amitools_pulumi/__init__.py`, installed with pip into a folder of its own
that PYTHONPATH puts ahead of the development install.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

import amitools_pulumi
from tests.conftest import HOME_REGION, PROGRAMS, REPO
from tests.helpers import describe, own_image_ids

pytestmark = pytest.mark.e2e

VERSIONED_CLONE = PROGRAMS / "versioned_clone"


def bumped(version: str) -> str:
    """Return `version` with its last number raised by one."""
    head, last = version.rsplit(".", 1)
    return f"{head}.{int(last) + 1}"


def install_build(version: str, work: Path) -> Path:
    """Build a wheel of this checkout as `version`, install it; return its folder."""
    source = work / f"source-{version}"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "amitools_pulumi",
        source / "amitools_pulumi",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    init = source / "amitools_pulumi" / "__init__.py"
    text, count = re.subn(
        r'^__version__ = ".*"$',
        f'__version__ = "{version}"',
        init.read_text(),
        count=1,
        flags=re.MULTILINE,
    )
    assert count == 1, "amitools_pulumi/__init__.py sets no __version__"
    init.write_text(text)

    wheels = work / "wheels"
    target = work / f"site-{version}"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source],
        check=True,
    )
    wheel = next(wheels.glob(f"amitools_pulumi-{version}-*.whl"))
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", target, wheel],
        check=True,
    )
    return target


def versions_logged(events: list[Any]) -> list[str]:
    """Return the program's log lines that name the package version in use."""
    lines = []
    for event in events:
        diagnostic = event.diagnostic_event
        if diagnostic is not None and "amitools_pulumi " in diagnostic.message:
            lines.append(diagnostic.message.strip())
    return lines


def test_up_after_installing_a_newer_build_changes_nothing(
    make_stack: Any, ec2: Any, foundation_image_id: str, tmp_path: Path
) -> None:
    client = ec2(HOME_REGION)
    old_version = amitools_pulumi.__version__
    new_version = bumped(old_version)
    old_site = install_build(old_version, tmp_path)
    new_site = install_build(new_version, tmp_path)
    stack = make_stack(
        VERSIONED_CLONE,
        {"sourceAmiId": foundation_image_id},
        env={"PYTHONPATH": str(old_site)},
    )
    images_before = own_image_ids(client)
    first_events: list[Any] = []
    first = stack.up(on_event=first_events.append)
    image_id = first.outputs["image_id"].value
    record = describe(client, image_id)

    stack.workspace.env_vars["PYTHONPATH"] = str(new_site)
    preview = stack.preview(diff=True)
    second_events: list[Any] = []
    second = stack.up(on_event=second_events.append)

    assert versions_logged(first_events) == [
        f"amitools_pulumi {old_version} from {old_site / 'amitools_pulumi'}"
    ]
    assert versions_logged(second_events) == [
        f"amitools_pulumi {new_version} from {new_site / 'amitools_pulumi'}"
    ]
    assert preview.change_summary == {"same": 2}
    assert second.summary.resource_changes == {"same": 2}
    assert outputs_of(second) == outputs_of(first)
    assert describe(client, image_id) == record
    assert own_image_ids(client) - images_before == {image_id}


def outputs_of(result: auto.UpResult) -> dict[str, Any]:
    return {key: output.value for key, output in result.outputs.items()}

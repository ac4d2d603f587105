"""The foundation example under the real Pulumi CLI: up, up again, refresh, destroy."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from pulumi import automation as auto

from amitools_pulumi.tags import lineage_tags
from tests.conftest import COPY_REGION, EXAMPLES, HOME_REGION
from tests.helpers import (
    describe,
    image_tags,
    own_image_ids,
    snapshot_exists,
    snapshot_tags,
)

pytestmark = pytest.mark.e2e

FOUNDATION = EXAMPLES / "foundation"
CREATE_DATE = re.compile(r"^\d{8}T\d{6}Z$")


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory,
    pulumi_env: dict[str, str],
    pulumi_command: auto.PulumiCommand,
    ec2: Any,
) -> Any:
    """Run `pulumi up` once on the foundation example for the read-only checks."""
    project_dir = tmp_path_factory.mktemp("foundation")
    (project_dir / "Pulumi.yaml").write_text(
        f"name: foundation-e2e\nruntime: python\nmain: {FOUNDATION}\n"
    )
    backend = tmp_path_factory.mktemp("foundation-backend")
    stack = auto.create_stack(
        "e2e",
        work_dir=str(project_dir),
        opts=auto.LocalWorkspaceOptions(
            env_vars={**pulumi_env, "PULUMI_BACKEND_URL": backend.as_uri()},
            pulumi_command=pulumi_command,
        ),
    )
    stack.set_config("aws:region", auto.ConfigValue(HOME_REGION))
    result = stack.up()
    outputs = {key: value.value for key, value in result.outputs.items()}
    outputs["aws_after_up"] = stack_images(ec2, outputs)
    yield stack, result, outputs
    stack.destroy()
    stack.workspace.remove_stack(stack.name)


def stack_images(ec2: Any, outputs: dict[str, Any]) -> dict[str, Any]:
    """Return moto's full records of the stack's clone and copy."""
    return {
        outputs["clone_image_id"]: describe(
            ec2(HOME_REGION), outputs["clone_image_id"]
        ),
        outputs["copy_image_id"]: describe(ec2(COPY_REGION), outputs["copy_image_id"]),
    }


def test_up_creates_clone_and_copy(deployed: Any) -> None:
    _stack, result, _outputs = deployed

    assert result.summary.resource_changes == {"create": 3}


def test_clone_is_available_in_home_region(deployed: Any, ec2: Any) -> None:
    _stack, _result, outputs = deployed

    image = describe(ec2(HOME_REGION), outputs["clone_image_id"])

    assert image is not None
    assert image["State"] == "available"
    assert image["Name"] == outputs["clone_name"]


def test_clone_name_is_generated(deployed: Any) -> None:
    _stack, _result, outputs = deployed

    assert re.match(r"^AMI-\d{10}-\d+$", outputs["clone_name"])


def test_clone_lineage_tags(deployed: Any, ec2: Any) -> None:
    _stack, _result, outputs = deployed

    tags = image_tags(ec2(HOME_REGION), outputs["clone_image_id"])

    assert tags["source_image"] == outputs["foundation_image_id"]
    assert tags["source_region"] == HOME_REGION
    assert CREATE_DATE.match(tags["create_date"])
    assert tags["create_timestamp"].isdigit()
    assert "source_instance" not in tags
    assert tags["purpose"] == "foundation"


def test_create_date_and_timestamp_are_one_instant(deployed: Any, ec2: Any) -> None:
    _stack, _result, outputs = deployed
    tags = image_tags(ec2(HOME_REGION), outputs["clone_image_id"])

    expected = time.strftime(
        "%Y%m%dT%H%M%SZ", time.gmtime(int(tags["create_timestamp"]))
    )

    assert tags["create_date"] == expected


def test_copy_is_in_second_region_with_lineage(deployed: Any, ec2: Any) -> None:
    _stack, _result, outputs = deployed

    tags = image_tags(ec2(COPY_REGION), outputs["copy_image_id"])

    assert outputs["copy_region"] == COPY_REGION
    assert tags["source_image"] == outputs["clone_image_id"]
    assert tags["source_region"] == HOME_REGION


def test_copy_is_not_in_home_region(deployed: Any, ec2: Any) -> None:
    _stack, _result, outputs = deployed

    assert describe(ec2(HOME_REGION), outputs["copy_image_id"]) is None


def test_snapshots_carry_lineage_tags(deployed: Any, ec2: Any) -> None:
    stack, _result, outputs = deployed
    state = stack.export_stack().deployment["resources"]
    copy = next(r for r in state if r["type"].endswith(":CopiedAmi"))
    snapshot_ids = copy["outputs"]["snapshot_ids"]

    tags = snapshot_tags(ec2(COPY_REGION), snapshot_ids[0])

    assert len(snapshot_ids) == 1
    assert tags["source_image"] == outputs["clone_image_id"]
    assert tags["create_date"] == copy["outputs"]["lineage_tags"]["create_date"]


def test_lineage_output_lists_two_generations(deployed: Any) -> None:
    _stack, _result, outputs = deployed
    # Other tests' clones of the same foundation image may share the lineage.
    ours = {outputs["clone_image_id"], outputs["copy_image_id"]}
    lineage = [node for node in outputs["lineage"] if node["image_id"] in ours]

    assert [node["image_id"] for node in lineage] == [
        outputs["clone_image_id"],
        outputs["copy_image_id"],
    ]
    assert [node["depth"] for node in lineage] == [1, 2]
    assert [node["region"] for node in lineage] == [HOME_REGION, COPY_REGION]
    assert lineage[0]["parent_image_id"] == outputs["foundation_image_id"]
    assert lineage[1]["parent_image_id"] == outputs["clone_image_id"]
    assert lineage[1]["parent_region"] == HOME_REGION
    assert CREATE_DATE.match(lineage[1]["create_date"])


def test_second_up_changes_nothing(deployed: Any, ec2: Any) -> None:
    stack, _result, outputs = deployed

    result = stack.up()

    assert result.summary.resource_changes == {"same": 3}
    assert result.outputs["clone_image_id"].value == outputs["clone_image_id"]
    assert stack_images(ec2, outputs) == outputs["aws_after_up"]


def test_preview_after_up_changes_nothing(deployed: Any) -> None:
    stack, _result, _outputs = deployed

    result = stack.preview()

    assert result.change_summary == {"same": 3}


def test_refresh_changes_nothing(deployed: Any, ec2: Any) -> None:
    stack, _result, outputs = deployed

    result = stack.refresh()

    assert result.summary.resource_changes == {"same": 3}
    assert stack_images(ec2, outputs) == outputs["aws_after_up"]


def test_destroy_removes_only_the_stack_images(
    make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    stack = make_stack(FOUNDATION)
    outputs = {key: value.value for key, value in stack.up().outputs.items()}
    state = stack.export_stack().deployment["resources"]
    snapshots = {
        resource["outputs"]["region"]: resource["outputs"]["snapshot_ids"]
        for resource in state
        if resource["type"].startswith("pulumi-python:dynamic")
    }
    foundation = describe(ec2(HOME_REGION), foundation_image_id)
    foundation_snapshot = foundation["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]

    result = stack.destroy()

    assert result.summary.resource_changes == {"delete": 3}
    assert outputs["clone_image_id"] not in own_image_ids(ec2(HOME_REGION))
    assert outputs["copy_image_id"] not in own_image_ids(ec2(COPY_REGION))
    assert not snapshot_exists(ec2(HOME_REGION), snapshots[HOME_REGION][0])
    assert not snapshot_exists(ec2(COPY_REGION), snapshots[COPY_REGION][0])
    assert describe(ec2(HOME_REGION), foundation_image_id)["State"] == "available"
    assert snapshot_exists(ec2(HOME_REGION), foundation_snapshot)


def test_lineage_follows_an_image_made_from_an_instance(
    make_stack: Any, ec2: Any
) -> None:
    stack = make_stack(FOUNDATION)
    first = {key: value.value for key, value in stack.up().outputs.items()}
    eu = ec2(COPY_REGION)
    instance_id = eu.run_instances(
        ImageId=first["copy_image_id"], MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )["Instances"][0]["InstanceId"]
    made = eu.create_image(InstanceId=instance_id, Name="app-from-foundation")[
        "ImageId"
    ]
    tags = lineage_tags(
        first["copy_image_id"],
        COPY_REGION,
        dt.datetime.now(dt.timezone.utc),
        source_instance=instance_id,
    )
    eu.create_tags(
        Resources=[made], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )

    second = stack.up()
    lineage = second.outputs["lineage"].value
    eu.deregister_image(ImageId=made)
    eu.terminate_instances(InstanceIds=[instance_id])

    # Other tests' clones of the same foundation image share the lineage.
    by_id = {node["image_id"]: node for node in lineage}

    assert second.summary.resource_changes == {"same": 3}
    assert by_id[first["clone_image_id"]]["depth"] == 1
    assert by_id[first["copy_image_id"]]["depth"] == 2
    assert by_id[made]["depth"] == 3
    assert by_id[made]["region"] == COPY_REGION
    assert by_id[made]["parent_image_id"] == first["copy_image_id"]
    assert by_id[made]["create_date"] == tags["create_date"]

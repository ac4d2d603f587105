"""Faults that EC2 produces in real life, injected into moto, under the real CLI.

Each fault is raised by moto's own response handlers with the error code real
EC2 uses. After each, moto's state and Pulumi's state must agree: no
duplicate image, no orphaned snapshot, and a clear message where the run
fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.ec2.responses.tags import TagResponse
from pulumi import automation as auto

from amitools_pulumi.tags import TOKEN_TAG
from tests.conftest import HOME_REGION, PROGRAMS
from tests.helpers import image_tags, own_image_ids, snapshot_exists
from tests.moto_faults import CopyControl, FailingAction

pytestmark = pytest.mark.e2e

IMAGE_COPY = PROGRAMS / "image_copy"


def stack_image_ids(stack: auto.Stack) -> list[str]:
    resources = stack.export_stack().deployment["resources"]
    return [r["outputs"]["image_id"] for r in resources if r["type"].endswith("Ami")]


@pytest.fixture
def clone_stack(make_stack: Any, foundation_image_id: str) -> auto.Stack:
    return make_stack(
        IMAGE_COPY,
        {"sourceAmiId": foundation_image_id, "tags": json.dumps({"team": "a"})},
    )


@pytest.mark.parametrize(
    ("owner", "action"),
    [
        (AmisResponse, "copy_image"),
        (AmisResponse, "describe_images"),
        (TagResponse, "create_tags"),
    ],
    ids=["CopyImage", "DescribeImages", "CreateTags"],
)
def test_throttling_is_retried(
    clone_stack: auto.Stack,
    ec2: Any,
    monkeypatch: pytest.MonkeyPatch,
    owner: type,
    action: str,
) -> None:
    before = own_image_ids(ec2(HOME_REGION))
    fault = FailingAction(monkeypatch, owner, action, "RequestLimitExceeded", times=3)

    result = clone_stack.up()
    image_id = result.outputs["image_id"].value
    created = own_image_ids(ec2(HOME_REGION)) - before

    assert fault.failures_left == 0
    assert result.summary.resource_changes == {"create": 2}
    assert created == {image_id}
    assert stack_image_ids(clone_stack) == [image_id]
    assert image_tags(ec2(HOME_REGION), image_id)["team"] == "a"
    assert TOKEN_TAG in image_tags(ec2(HOME_REGION), image_id)


def test_destroy_after_snapshot_deleted_out_of_band(
    clone_stack: auto.Stack, ec2: Any
) -> None:
    outputs = {key: value.value for key, value in clone_stack.up().outputs.items()}
    client = ec2(HOME_REGION)
    client.deregister_image(ImageId=outputs["image_id"])
    client.delete_snapshot(SnapshotId=outputs["snapshot_ids"][0])

    result = clone_stack.destroy()

    assert result.summary.resource_changes == {"delete": 2}
    assert outputs["image_id"] not in own_image_ids(client)


def test_delete_that_keeps_failing_can_be_retried(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = {key: value.value for key, value in clone_stack.up().outputs.items()}
    # A timed-out request is retried by botocore; more failures than its 10
    # attempts make the first destroy fail, as a long network outage would.
    FailingAction(
        monkeypatch, AmisResponse, "deregister_image", "RequestTimeout", times=12
    )

    with pytest.raises(auto.errors.CommandError) as raised:
        clone_stack.destroy()
    still_in_state = stack_image_ids(clone_stack)
    second = clone_stack.destroy()

    assert "RequestTimeout" in str(raised.value)
    assert still_in_state == [outputs["image_id"]]
    assert second.summary.resource_changes == {"delete": 2}
    assert outputs["image_id"] not in own_image_ids(ec2(HOME_REGION))
    assert not snapshot_exists(ec2(HOME_REGION), outputs["snapshot_ids"][0])


def test_snapshot_delete_failure_keeps_the_resource(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = {key: value.value for key, value in clone_stack.up().outputs.items()}
    # A snapshot still in use is a real, non-retryable EC2 error.
    FailingAction(
        monkeypatch,
        ElasticBlockStore,
        "delete_snapshot",
        "InvalidSnapshot.InUse",
        times=1,
    )

    with pytest.raises(auto.errors.CommandError) as raised:
        clone_stack.destroy()
    second = clone_stack.destroy()

    assert "InvalidSnapshot.InUse" in str(raised.value)
    assert second.summary.resource_changes == {"delete": 2}
    assert not snapshot_exists(ec2(HOME_REGION), outputs["snapshot_ids"][0])


def test_copy_unknown_right_after_copy_image(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = CopyControl(monkeypatch)
    control.not_found_polls = 3
    control.release_after_polls = 5

    result = clone_stack.up()
    image_id = result.outputs["image_id"].value

    assert control.polls[image_id] >= 5
    assert stack_image_ids(clone_stack) == [image_id]
    assert len(control.copies) == 1


def test_wait_timeout_deletes_the_copy(
    make_stack: Any,
    ec2: Any,
    foundation_image_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    control = CopyControl(monkeypatch)
    stack = make_stack(
        IMAGE_COPY, {"sourceAmiId": foundation_image_id, "waitTimeoutMinutes": "1"}
    )
    before = own_image_ids(ec2(HOME_REGION))

    with pytest.raises(auto.errors.CommandError) as raised:
        stack.up()
    held = control.copies[0]

    assert f"image {held.id} in us-east-1 is not available after 1 minutes" in str(
        raised.value
    )
    assert "raise wait_timeout_minutes" in str(raised.value)
    assert own_image_ids(ec2(HOME_REGION)) == before
    assert stack_image_ids(stack) == []

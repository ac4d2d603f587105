"""LineageTags, Ancestors and Children under the real Pulumi CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi import automation as auto

from tests.conftest import COPY_REGION, HOME_REGION, PROGRAMS
from tests.helpers import image_tags

pytestmark = pytest.mark.e2e

LINEAGE_TAGS = PROGRAMS / "lineage_tags"


@pytest.fixture
def untagged_copy(ec2: Any, foundation_image_id: str) -> Iterator[str]:
    """An image in eu-west-1 made outside Pulumi, without lineage tags."""
    client = ec2(COPY_REGION)
    image_id = client.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="by-hand"
    )["ImageId"]
    yield image_id
    client.deregister_image(ImageId=image_id)


def test_lineage_tags_written_queried_and_removed(
    make_stack: Any, ec2: Any, foundation_image_id: str, untagged_copy: str
) -> None:
    stack = make_stack(
        LINEAGE_TAGS,
        {
            "imageId": untagged_copy,
            "sourceImage": foundation_image_id,
            "sourceInstance": "i-0abc1234def567890",
            "createTimestamp": "1796399915",
            "copyRegion": COPY_REGION,
        },
    )

    result = stack.up()
    outputs = {key: value.value for key, value in result.outputs.items()}
    written = image_tags(ec2(COPY_REGION), untagged_copy)
    stack.destroy()
    after_destroy = image_tags(ec2(COPY_REGION), untagged_copy)

    assert written["source_image"] == foundation_image_id
    assert written["source_region"] == HOME_REGION
    assert written["source_instance"] == "i-0abc1234def567890"
    assert written["create_date"] == "20261204T155835Z"
    assert outputs["lineage_tags"]["create_timestamp"] == "1796399915"
    assert [node["image_id"] for node in outputs["ancestors"]] == [foundation_image_id]
    assert untagged_copy in [node["image_id"] for node in outputs["children"]]
    assert "source_image" not in after_destroy


def test_lineage_tags_reject_two_dates(
    make_stack: Any, foundation_image_id: str, untagged_copy: str
) -> None:
    stack = make_stack(
        LINEAGE_TAGS,
        {
            "imageId": untagged_copy,
            "sourceImage": foundation_image_id,
            "createTimestamp": "1796399915",
            "createDate": "20261204T155835Z",
            "copyRegion": COPY_REGION,
        },
    )

    with pytest.raises(auto.errors.CommandError) as raised:
        stack.preview()

    assert "give exactly one of create_date" in str(raised.value)


def test_dropping_source_instance_removes_the_tag(
    make_stack: Any, ec2: Any, foundation_image_id: str, untagged_copy: str
) -> None:
    config = {
        "imageId": untagged_copy,
        "sourceImage": foundation_image_id,
        "sourceInstance": "i-0abc1234def567890",
        "createTimestamp": "1796399915",
        "copyRegion": COPY_REGION,
    }
    stack = make_stack(LINEAGE_TAGS, config)
    stack.up()
    stack.remove_config("sourceInstance")

    stack.up()
    refreshed = stack.refresh()

    assert "source_instance" not in image_tags(ec2(COPY_REGION), untagged_copy)
    assert refreshed.summary.resource_changes == {"same": 2}


def test_rename_keeps_the_tags(
    make_stack: Any, ec2: Any, foundation_image_id: str, untagged_copy: str
) -> None:
    config = {
        "imageId": untagged_copy,
        "sourceImage": foundation_image_id,
        "createTimestamp": "1796399915",
        "copyRegion": COPY_REGION,
    }
    stack = make_stack(LINEAGE_TAGS, config)
    stack.up()
    # Renaming the resource creates the new one before deleting the old one.
    stack.set_config("resourceName", auto.ConfigValue("renamed"))

    result = stack.up()

    assert result.summary.resource_changes == {"create": 1, "delete": 1, "same": 1}
    assert image_tags(ec2(COPY_REGION), untagged_copy)["source_image"] == (
        foundation_image_id
    )

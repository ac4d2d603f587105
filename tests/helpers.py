"""Reads of moto's state shared by the tests."""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend

from amitools_pulumi.tags import tags_to_dict
from tests.conftest import ACCOUNT_ID


def describe(ec2_client: Any, image_id: str) -> dict[str, Any] | None:
    """Return the image record, or None when EC2 no longer lists it."""
    images = ec2_client.describe_images(
        Filters=[{"Name": "image-id", "Values": [image_id]}]
    )["Images"]
    return images[0] if images else None


def image_tags(ec2_client: Any, image_id: str) -> dict[str, str]:
    image = describe(ec2_client, image_id)
    assert image is not None, f"image {image_id} does not exist"
    return tags_to_dict(image.get("Tags"))


def snapshot_tags(ec2_client: Any, snapshot_id: str) -> dict[str, str]:
    snapshot = ec2_client.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    return tags_to_dict(snapshot.get("Tags"))


def snapshot_exists(ec2_client: Any, snapshot_id: str) -> bool:
    snapshots = ec2_client.describe_snapshots(
        Filters=[{"Name": "snapshot-id", "Values": [snapshot_id]}]
    )["Snapshots"]
    return bool(snapshots)


def own_image_ids(ec2_client: Any) -> set[str]:
    images = ec2_client.describe_images(Owners=["self"])["Images"]
    return {image["ImageId"] for image in images}


def moto_image(region: str, image_id: str) -> Any:
    """Return moto's live backend object of an image, shared with its server."""
    return get_backend("ec2")[ACCOUNT_ID][region].amis[image_id]

"""EC2 operations behind the resources: copy, tag, wait, read and delete images."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from amitools_pulumi import aws
from amitools_pulumi.errors import CopyFailedError, SourceImageNotFoundError
from amitools_pulumi.tags import dict_to_tags, lineage_tags, tags_to_dict

logger = logging.getLogger(__name__)

# Error codes EC2 returns for an image or snapshot that is gone, or that a
# just-started copy has not yet made visible.
IMAGE_GONE_CODES = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"})
SNAPSHOT_GONE_CODES = frozenset({"InvalidSnapshot.NotFound"})

WAIT_DELAY_SECONDS = 15
DEFAULT_WAIT_TIMEOUT_SECONDS = 60 * 60

# IAM actions each operation needs; the README lists them for policy authors.
PERMISSIONS = {
    "create": (
        "ec2:CopyImage",
        "ec2:CreateTags",
        "ec2:DescribeImages",
        "ec2:DeregisterImage",
        "ec2:DeleteSnapshot",
    ),
    "read": ("ec2:DescribeImages",),
    "update": (
        "ec2:CreateTags",
        "ec2:DeleteTags",
        "ec2:ModifyImageAttribute",
    ),
    "delete": ("ec2:DeregisterImage", "ec2:DeleteSnapshot"),
    "lineage": ("ec2:DescribeImages", "ec2:DescribeRegions"),
}


def error_code(error: botocore.exceptions.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


@dataclass(frozen=True)
class CopySpec:
    """What one copy must produce: source, destination and the new image's metadata."""

    source_ami_id: str
    source_region: str
    region: str
    name: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    wait_timeout_seconds: int = DEFAULT_WAIT_TIMEOUT_SECONDS


def describe_image(region: str, image_id: str) -> dict[str, Any] | None:
    """Return EC2's record of `image_id` in `region`, or None when it does not exist."""
    client = aws.ec2_client(region)
    try:
        images = client.describe_images(ImageIds=[image_id])["Images"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) in IMAGE_GONE_CODES:
            return None
        raise
    return images[0] if images else None


def require_source_image(image_id: str, region: str) -> dict[str, Any]:
    """Return the source image's record; raise SourceImageNotFoundError when missing."""
    image = describe_image(region, image_id)
    if image is None or image.get("State") == "deregistered":
        raise SourceImageNotFoundError(
            f"source image {image_id} was not found in region {region}; check the "
            "image id and the source region, and that this account may read it"
        )
    return image


def snapshot_ids(image: Mapping[str, Any]) -> list[str]:
    """Return the EBS snapshot ids of an image record, in device order."""
    ids = []
    for mapping in image.get("BlockDeviceMappings", []):
        snapshot_id = mapping.get("Ebs", {}).get("SnapshotId")
        if snapshot_id:
            ids.append(snapshot_id)
    return ids


def copy_image(spec: CopySpec) -> dict[str, Any]:
    """Copy the source image, tag the copy and its snapshots, and wait for it.

    Returns the resource outputs. When anything fails after CopyImage has
    returned, the new image and its snapshots are deleted before the error is
    raised, so a failed create leaves nothing behind.
    """
    client = aws.ec2_client(spec.region)
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    lineage = lineage_tags(spec.source_ami_id, spec.source_region, created)
    all_tags = {**spec.tags, **lineage}

    # Real EC2 tags atomically through TagSpecifications; emulators that ignore
    # them are covered by the explicit CreateTags calls below.
    request: dict[str, Any] = {
        "SourceImageId": spec.source_ami_id,
        "SourceRegion": spec.source_region,
        "Name": spec.name,
        "TagSpecifications": [
            {"ResourceType": "image", "Tags": dict_to_tags(all_tags)},
            {"ResourceType": "snapshot", "Tags": dict_to_tags(all_tags)},
        ],
    }
    if spec.description is not None:
        request["Description"] = spec.description
    image_id = client.copy_image(**request)["ImageId"]
    logger.info(
        "copying %s from %s to %s as %s",
        spec.source_ami_id,
        spec.source_region,
        spec.region,
        image_id,
    )

    try:
        # A new copy can be invisible to DescribeImages for a short while.
        client.get_waiter("image_exists").wait(
            ImageIds=[image_id], WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )
        client.create_tags(Resources=[image_id], Tags=dict_to_tags(all_tags))
        image = wait_until_available(spec.region, image_id, spec.wait_timeout_seconds)
        snapshots = snapshot_ids(image)
        if snapshots:
            client.create_tags(Resources=snapshots, Tags=dict_to_tags(all_tags))
    except BaseException:
        logger.warning("copy %s failed; deleting it and its snapshots", image_id)
        delete_image(spec.region, image_id, None)
        raise

    return {
        "image_id": image_id,
        "name": spec.name,
        "region": spec.region,
        "source_ami_id": spec.source_ami_id,
        "source_region": spec.source_region,
        "description": spec.description,
        "tags": dict(spec.tags),
        "snapshot_ids": snapshots,
        "lineage_tags": lineage,
        "creation_date": image.get("CreationDate"),
    }


def wait_until_available(
    region: str, image_id: str, timeout_seconds: int
) -> dict[str, Any]:
    """Wait for `image_id` to become available and return its record.

    Raises CopyFailedError with EC2's state reason when the image ends
    `failed` or is still not available after `timeout_seconds`.
    """
    client = aws.ec2_client(region)
    attempts = max(1, timeout_seconds // WAIT_DELAY_SECONDS)
    try:
        client.get_waiter("image_available").wait(
            ImageIds=[image_id],
            WaiterConfig={"Delay": WAIT_DELAY_SECONDS, "MaxAttempts": attempts},
        )
    except botocore.exceptions.WaiterError as error:
        image = describe_image(region, image_id) or {}
        reason = image.get("StateReason", {}).get("Message") or str(error)
        raise CopyFailedError(
            f"image {image_id} in {region} did not become available "
            f"(state {image.get('State', 'unknown')}): {reason}"
        ) from error
    image = describe_image(region, image_id)
    if image is None:
        raise CopyFailedError(f"image {image_id} in {region} vanished after the copy")
    return image


def delete_image(region: str, image_id: str, snapshots: list[str] | None) -> None:
    """Deregister `image_id`, then delete `snapshots` (default: the image's own).

    An image or snapshot that is already gone counts as deleted.
    """
    client = aws.ec2_client(region)
    if snapshots is None:
        image = describe_image(region, image_id)
        snapshots = snapshot_ids(image) if image else []

    try:
        client.deregister_image(ImageId=image_id)
    except botocore.exceptions.ClientError as error:
        if error_code(error) not in IMAGE_GONE_CODES:
            raise
        logger.info("image %s in %s was already deregistered", image_id, region)

    # Snapshots can only be deleted once no registered image uses them.
    for snapshot_id in snapshots:
        try:
            client.delete_snapshot(SnapshotId=snapshot_id)
        except botocore.exceptions.ClientError as error:
            if error_code(error) not in SNAPSHOT_GONE_CODES:
                raise
            logger.info("snapshot %s in %s was already deleted", snapshot_id, region)


def update_tags(
    region: str,
    resource_ids: list[str],
    old_tags: Mapping[str, str],
    new_tags: Mapping[str, str],
) -> None:
    """Make the user tags on `resource_ids` go from `old_tags` to `new_tags`."""
    client = aws.ec2_client(region)
    removed = sorted(set(old_tags) - set(new_tags))
    if removed:
        client.delete_tags(
            Resources=resource_ids, Tags=[{"Key": key} for key in removed]
        )
    if new_tags:
        client.create_tags(Resources=resource_ids, Tags=dict_to_tags(new_tags))


def set_description(region: str, image_id: str, description: str) -> None:
    client = aws.ec2_client(region)
    client.modify_image_attribute(ImageId=image_id, Description={"Value": description})


def read_tags(image: Mapping[str, Any]) -> dict[str, str]:
    return tags_to_dict(image.get("Tags"))

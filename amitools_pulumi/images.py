"""EC2 reads and writes on one image: describe, tag, describe snapshots, delete."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import botocore.exceptions

from amitools_pulumi.tags import LINEAGE_TAG_KEYS, TOKEN_TAG, dict_to_tags, tags_to_dict

logger = logging.getLogger(__name__)

# Error codes EC2 returns for an image or snapshot that is gone, or that a
# just-started copy has not yet made visible.
IMAGE_GONE_CODES = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"})
SNAPSHOT_GONE_CODES = frozenset({"InvalidSnapshot.NotFound"})

# IAM actions each operation needs; the README lists them for policy authors.
PERMISSIONS = {
    "create": (
        "ec2:CopyImage",
        "ec2:CreateTags",
        "ec2:DescribeImages",
        "ec2:DescribeSnapshots",
        "ec2:DeregisterImage",
        "ec2:DeleteSnapshot",
    ),
    "read": ("ec2:DescribeImages", "ec2:DescribeSnapshots"),
    "update": ("ec2:CreateTags", "ec2:DeleteTags", "ec2:ModifyImageAttribute"),
    "delete": (
        "ec2:DescribeRegions",
        "ec2:DescribeImages",
        "ec2:DeregisterImage",
        "ec2:DeleteSnapshot",
    ),
    "lineage": ("ec2:DescribeRegions", "ec2:DescribeImages"),
}


def error_code(error: botocore.exceptions.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def describe_image(client: Any, image_id: str) -> dict[str, Any] | None:
    """Return EC2's record of `image_id`, or None when it does not exist."""
    try:
        images = client.describe_images(ImageIds=[image_id])["Images"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) in IMAGE_GONE_CODES:
            return None
        raise
    return images[0] if images else None


def find_by_token(client: Any, token: str) -> dict[str, Any] | None:
    """Return this account's image tagged with copy token `token`, if any."""
    images = client.describe_images(
        Owners=["self"], Filters=[{"Name": f"tag:{TOKEN_TAG}", "Values": [token]}]
    )["Images"]
    live = [image for image in images if image.get("State") != "deregistered"]
    return live[0] if live else None


def find_by_name(client: Any, name: str) -> dict[str, Any] | None:
    """Return this account's image called `name` in the client's region, if any."""
    images = client.describe_images(
        Owners=["self"], Filters=[{"Name": "name", "Values": [name]}]
    )["Images"]
    return images[0] if images else None


def snapshot_ids(image: Mapping[str, Any]) -> list[str]:
    """Return the EBS snapshot ids of an image record, in device order."""
    ids = []
    for mapping in image.get("BlockDeviceMappings", []):
        snapshot_id = mapping.get("Ebs", {}).get("SnapshotId")
        if snapshot_id:
            ids.append(snapshot_id)
    return ids


def snapshot_exists(client: Any, snapshot_id: str) -> bool:
    snapshots = client.describe_snapshots(
        Filters=[{"Name": "snapshot-id", "Values": [snapshot_id]}]
    )["Snapshots"]
    return bool(snapshots)


def is_encrypted(client: Any, image: Mapping[str, Any]) -> bool:
    """Tell whether every EBS snapshot of the image is encrypted."""
    flags = [
        mapping["Ebs"]["Encrypted"]
        for mapping in image.get("BlockDeviceMappings", [])
        if "Encrypted" in mapping.get("Ebs", {})
    ]
    if not flags:
        # Some records leave Encrypted out of the mappings; the snapshots have it.
        ids = snapshot_ids(image)
        if not ids:
            return False
        snapshots = client.describe_snapshots(SnapshotIds=ids)["Snapshots"]
        flags = [snapshot.get("Encrypted", False) for snapshot in snapshots]
    return bool(flags) and all(flags)


def split_tags(aws_tags: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Split EC2 tags into (user tags, lineage tags); the copy token is dropped."""
    tags = tags_to_dict(aws_tags)
    user = {
        k: v for k, v in tags.items() if k not in LINEAGE_TAG_KEYS and k != TOKEN_TAG
    }
    lineage = {k: v for k, v in tags.items() if k in LINEAGE_TAG_KEYS}
    return user, lineage


def write_tags(client: Any, resource_ids: list[str], tags: Mapping[str, str]) -> None:
    if resource_ids and tags:
        client.create_tags(Resources=resource_ids, Tags=dict_to_tags(tags))


def update_tags(
    client: Any,
    resource_ids: list[str],
    old_tags: Mapping[str, str],
    new_tags: Mapping[str, str],
) -> None:
    """Make the user tags on `resource_ids` go from `old_tags` to `new_tags`."""
    removed = sorted(set(old_tags) - set(new_tags))
    if removed:
        client.delete_tags(
            Resources=resource_ids, Tags=[{"Key": key} for key in removed]
        )
    write_tags(client, resource_ids, new_tags)


def set_description(client: Any, image_id: str, description: str) -> None:
    client.modify_image_attribute(ImageId=image_id, Description={"Value": description})


def delete_image(client: Any, image_id: str, snapshots: list[str] | None) -> None:
    """Deregister `image_id`, then delete `snapshots` (None: the image's own).

    An image or snapshot that is already gone counts as deleted.
    """
    if snapshots is None:
        image = describe_image(client, image_id)
        snapshots = snapshot_ids(image) if image else []

    try:
        client.deregister_image(ImageId=image_id)
    except botocore.exceptions.ClientError as error:
        if error_code(error) not in IMAGE_GONE_CODES:
            raise
        logger.info("image %s was already deregistered", image_id)

    # A snapshot can only be deleted once no registered image uses it.
    for snapshot_id in snapshots:
        try:
            client.delete_snapshot(SnapshotId=snapshot_id)
        except botocore.exceptions.ClientError as error:
            if error_code(error) not in SNAPSHOT_GONE_CODES:
                raise
            logger.info("snapshot %s was already deleted", snapshot_id)

"""The create path of both resources: copy, tag, wait, with cleanup on failure."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from amitools_pulumi import aws, images
from amitools_pulumi.progress import RateLimitedReporter
from amitools_pulumi.tags import (
    COPYING_PREFIX,
    TOKEN_TAG,
    dict_to_tags,
    lineage_tags,
    tags_to_dict,
)
from amitools_pulumi.waiting import FAILED_STATES, wait_until_available

logger = logging.getLogger(__name__)

DEFAULT_WAIT_TIMEOUT_MINUTES = 60


@dataclass(frozen=True)
class CopySpec:
    """Source, destination and metadata of one copy."""

    source_ami_id: str
    source_region: str
    region: str
    name: str
    token: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    encrypted: bool | None = None
    kms_key_id: str | None = None
    wait_timeout_minutes: int = DEFAULT_WAIT_TIMEOUT_MINUTES
    profile: str | None = None


def copy_token(resource_key: str, *parts: Any) -> str:
    """Derive the copy token from the resource and what it copies.

    The same resource copying the same source gets the same token on every
    attempt, which lets a create find the copy that an interrupted attempt
    started. CopyImage's ClientToken is not this token: EC2 remembers a
    ClientToken after the image is gone, so a token reused by a later create
    would return the deleted image or fail.
    """
    text = "\n".join([resource_key, *(str(part) for part in parts)])
    return f"{owner_prefix(resource_key)}{hashlib.sha256(text.encode()).hexdigest()}"


def owner_prefix(resource_key: str) -> str:
    """Return the start of every copy token of the resource `resource_key`.

    An image whose token starts with it was made by this resource, whatever
    it copied.
    """
    return hashlib.sha256(resource_key.encode()).hexdigest()[:16] + "-"


def made_by(image: Mapping[str, Any], resource_key: str) -> bool:
    """Tell whether `image` carries a copy token of the resource `resource_key`."""
    token = tags_to_dict(image.get("Tags")).get(TOKEN_TAG, "")
    return token.removeprefix(COPYING_PREFIX).startswith(owner_prefix(resource_key))


def copy_image(spec: CopySpec) -> dict[str, Any]:
    """Copy the source image, tag the copy and its snapshots, and wait for it.

    Returns the resource outputs. A copy that this resource started earlier
    and did not finish (found by its token tag) is resumed instead of started
    again; a finished copy, such as the image that a replacement replaces, is
    never taken over. When anything fails after CopyImage, the new image and
    its snapshots are deleted before the error is raised, so a failed create
    leaves nothing.
    """
    client = aws.ec2_client(spec.region, spec.profile)
    reporter = RateLimitedReporter()

    # An interrupted create left its image behind: finish that one instead.
    copying = COPYING_PREFIX + spec.token
    image = images.find_by_token(client, copying)
    if image is not None and image.get("State") in FAILED_STATES:
        logger.warning("deleting %s, an earlier failed copy", image["ImageId"])
        images.delete_image(client, image["ImageId"], None)
        image = None
    if image is not None:
        image_id = image["ImageId"]
        _user, lineage = images.split_tags(image.get("Tags"))
        reporter.report(
            f"{image_id} in {spec.region}: resuming an earlier copy", force=True
        )
    else:
        created = dt.datetime.now(dt.timezone.utc)
        lineage = lineage_tags(spec.source_ami_id, spec.source_region, created)
        image_id = _start_copy(client, spec, lineage)
        reporter.report(
            f"{image_id} in {spec.region}: copying {spec.source_ami_id} "
            f"from {spec.source_region}",
            force=True,
        )

    all_tags = {**spec.tags, **lineage, TOKEN_TAG: copying}
    try:
        # Emulators ignore TagSpecifications, and an earlier attempt may have
        # stopped before tagging, so the tags are written again once EC2
        # lists the image.
        image = wait_until_available(
            client,
            image_id,
            region=spec.region,
            timeout_seconds=spec.wait_timeout_minutes * 60,
            reporter=reporter,
            on_found=lambda _image: images.write_tags(client, [image_id], all_tags),
        )
        snapshots = images.snapshot_ids(image)
        snapshots_encrypted = images.is_encrypted(client, image)
        # The last write: it tags the snapshots and marks the copy finished.
        images.write_tags(
            client, [image_id, *snapshots], {**all_tags, TOKEN_TAG: spec.token}
        )
    except BaseException:
        logger.warning("copy %s failed; deleting it and its snapshots", image_id)
        images.delete_image(client, image_id, None)
        raise

    reporter.report(f"{image_id} in {spec.region}: available", force=True)
    return {
        "image_id": image_id,
        "name": image.get("Name", spec.name),
        "region": spec.region,
        "source_ami_id": spec.source_ami_id,
        "source_region": spec.source_region,
        "description": spec.description,
        "tags": dict(spec.tags),
        "encrypted": spec.encrypted,
        "kms_key_id": spec.kms_key_id,
        "snapshots_encrypted": snapshots_encrypted,
        "snapshot_ids": snapshots,
        "lineage_tags": lineage,
        "lineage_tag_drift": {},
        "creation_date": image.get("CreationDate"),
    }


def _start_copy(client: Any, spec: CopySpec, lineage: Mapping[str, str]) -> str:
    all_tags = dict_to_tags(
        {**spec.tags, **lineage, TOKEN_TAG: COPYING_PREFIX + spec.token}
    )
    request: dict[str, Any] = {
        "SourceImageId": spec.source_ami_id,
        "SourceRegion": spec.source_region,
        "Name": spec.name,
        # Unique per call; botocore's retries of this call reuse it.
        "ClientToken": uuid.uuid4().hex,
        "TagSpecifications": [
            {"ResourceType": "image", "Tags": all_tags},
            {"ResourceType": "snapshot", "Tags": all_tags},
        ],
    }
    # Unset options stay out of the request, so EC2 applies its own defaults.
    if spec.description is not None:
        request["Description"] = spec.description
    if spec.encrypted is not None:
        request["Encrypted"] = spec.encrypted
    if spec.kms_key_id:
        request["KmsKeyId"] = spec.kms_key_id
    try:
        return client.copy_image(**request)["ImageId"]
    except botocore.exceptions.ClientError as error:
        logger.error(
            "CopyImage of %s from %s failed: %s",
            spec.source_ami_id,
            spec.source_region,
            error,
        )
        raise

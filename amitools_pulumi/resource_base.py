"""Arguments and outputs shared by ClonedAmi and CopiedAmi."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from amitools_pulumi import aws
from amitools_pulumi.errors import InvalidInputError
from amitools_pulumi.naming import DEFAULT_NAME_PREFIX
from amitools_pulumi.provider import ImageCopyProvider

# Output-only properties: Pulumi exposes a dynamic resource's outputs as the
# attributes that appear in its props, so each is declared with None.
OUTPUT_KEYS = (
    "image_id",
    "snapshot_ids",
    "lineage_tags",
    "creation_date",
)


class ImageCopyArgs:
    """Inputs common to both resources."""

    source_ami_id: pulumi.Input[str]
    """Id of the image to copy (`ami-` followed by hex digits). Required."""

    region: pulumi.Input[str] | None
    """Region of the new image. Default: `aws:region` from the stack config,
    else boto3's default region (AWS_DEFAULT_REGION or the profile)."""

    name: pulumi.Input[str] | None
    """Name of the new image. Default: generated once as
    `<random_name_prefix>-<epoch seconds>-<random number>` and kept."""

    random_name_prefix: pulumi.Input[str] | None
    """Prefix of the generated name. Default: `AMI`."""

    description: pulumi.Input[str] | None
    """Description of the new image, at most 255 characters."""

    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None
    """User tags for the new image and its snapshots, beside the lineage tags."""

    def __init__(
        self,
        source_ami_id: pulumi.Input[str],
        region: pulumi.Input[str] | None = None,
        name: pulumi.Input[str] | None = None,
        random_name_prefix: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
    ) -> None:
        self.source_ami_id = source_ami_id
        self.region = region
        self.name = name
        self.random_name_prefix = random_name_prefix
        self.description = description
        self.tags = tags


class ImageCopyResource(pulumi.dynamic.Resource):
    """Base of the two resources: one new image copied from a source image."""

    image_id: pulumi.Output[str]
    """Id of the new image."""

    name: pulumi.Output[str]
    """Name of the new image."""

    region: pulumi.Output[str]
    """Region of the new image."""

    source_ami_id: pulumi.Output[str]
    """Id of the image it was copied from."""

    source_region: pulumi.Output[str]
    """Region of the image it was copied from."""

    description: pulumi.Output[str | None]
    """Description given to the new image, if any."""

    tags: pulumi.Output[dict[str, str]]
    """User tags on the image and its snapshots."""

    snapshot_ids: pulumi.Output[list[str]]
    """EBS snapshots that the copy created; destroy deletes exactly these."""

    lineage_tags: pulumi.Output[dict[str, str]]
    """The amitools lineage tags written on the image and its snapshots."""

    creation_date: pulumi.Output[str]
    """EC2's creation time of the new image (ISO 8601)."""

    def _register(
        self,
        resource_name: str,
        args: ImageCopyArgs,
        source_region: pulumi.Input[str],
        region: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        props: dict[str, Any] = {
            "source_ami_id": args.source_ami_id,
            "source_region": source_region,
            "region": region,
            "name": args.name,
            "random_name_prefix": args.random_name_prefix or DEFAULT_NAME_PREFIX,
            "description": args.description,
            "tags": args.tags,
        }
        props.update(dict.fromkeys(OUTPUT_KEYS))
        super().__init__(ImageCopyProvider(), resource_name, props, opts)


def build_args(
    resource_type: str,
    args: ImageCopyArgs | None,
    overrides: Mapping[str, Any],
) -> ImageCopyArgs:
    """Merge an args object with keyword arguments; keywords win."""
    values: dict[str, Any] = dict(vars(args)) if args is not None else {}
    # CopiedAmi handles its source region itself.
    values.pop("source_region", None)
    values.update({key: value for key, value in overrides.items() if value is not None})
    if values.get("source_ami_id") in (None, ""):
        raise InvalidInputError(
            f"{resource_type}: source_ami_id is missing; pass the id of the image "
            "to copy, e.g. source_ami_id='ami-0abcdef1234567890'"
        )
    return ImageCopyArgs(**values)


def resolve_region_input(region: pulumi.Input[str] | None) -> pulumi.Input[str]:
    """Return `region` when given, else the program's default region."""
    if region is not None:
        return region
    return aws.resolve_region(None)

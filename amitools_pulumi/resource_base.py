"""Arguments and outputs shared by ClonedAmi and CopiedAmi."""

from __future__ import annotations

import dataclasses
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
    "snapshots_encrypted",
    "lineage_tags",
    "lineage_tag_drift",
    "creation_date",
)


@dataclasses.dataclass
class ImageCopyArgs:
    """Inputs common to both resources; the README lists them with defaults."""

    source_ami_id: pulumi.Input[str] | None = None
    """Id of the image to copy (`ami-` followed by hex digits). Required."""

    region: pulumi.Input[str] | None = None
    """Region of the new image. Default: `aws:region` from the stack config,
    else boto3's default region (AWS_DEFAULT_REGION or the profile)."""

    name: pulumi.Input[str] | None = None
    """Name of the new image. Default: generated once as
    `<random_name_prefix>-<epoch seconds>-<random number>` and kept."""

    random_name_prefix: pulumi.Input[str] | None = None
    """Prefix of the generated name. Default: `AMI`."""

    description: pulumi.Input[str] | None = None
    """Description of the new image, at most 255 characters."""

    tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """User tags for the new image and its snapshots, beside the lineage tags."""

    encrypted: pulumi.Input[bool] | None = None
    """Encrypt the copy's snapshots. Default: EC2's (a copy of an encrypted
    image stays encrypted)."""

    kms_key_id: pulumi.Input[str] | None = None
    """KMS key for an encrypted copy (id, ARN, alias); needs `encrypted=True`."""

    wait_timeout_minutes: pulumi.Input[int] | None = None
    """How long create waits for the copy to become available. Default: 60."""

    profile: pulumi.Input[str] | None = None
    """AWS profile for the EC2 calls. Default: `aws:profile` from the stack
    config, else boto3's default credential chain."""

    allow_delete_with_descendants: pulumi.Input[bool] | None = None
    """Let destroy delete the image although images made from it still exist."""

    adopt_image_id: pulumi.Input[str] | None = None
    """Take over this existing image instead of copying. It must carry lineage
    tags naming `source_ami_id` and `source_region`. Read only at create."""


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

    encrypted: pulumi.Output[bool | None]
    """The `encrypted` input as given."""

    kms_key_id: pulumi.Output[str | None]
    """The `kms_key_id` input as given."""

    snapshots_encrypted: pulumi.Output[bool]
    """Whether every snapshot of the new image is encrypted."""

    snapshot_ids: pulumi.Output[list[str]]
    """EBS snapshots that the copy created; destroy deletes exactly these."""

    lineage_tags: pulumi.Output[dict[str, str]]
    """The amitools lineage tags written on the image and its snapshots."""

    lineage_tag_drift: pulumi.Output[dict[str, str]]
    """Lineage tags changed out of band, by live value; the next update
    writes the managed values back. Empty when there is no drift."""

    creation_date: pulumi.Output[str]
    """EC2's creation time of the new image (ISO 8601)."""

    def _register(
        self,
        resource_name: str,
        args: ImageCopyArgs,
        source_region: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        """Register the resource; a `source_region` of None means `region`."""
        region = args.region if args.region is not None else aws.resolve_region(None)
        profile = args.profile if args.profile is not None else aws.default_profile()
        props: dict[str, Any] = _shallow_fields(args)
        props.update(
            {
                "source_region": source_region if source_region is not None else region,
                "region": region,
                "profile": profile,
                "random_name_prefix": args.random_name_prefix or DEFAULT_NAME_PREFIX,
                # Identifies this resource in the copy token.
                "resource_key": _resource_key(
                    self._resource_type_name, resource_name, opts
                ),
            }
        )
        props.update(dict.fromkeys(OUTPUT_KEYS))
        super().__init__(ImageCopyProvider(), resource_name, props, opts)


def merge_args(
    resource_type: str,
    args: ImageCopyArgs | None,
    overrides: Mapping[str, Any],
) -> ImageCopyArgs:
    """Merge an args object with keyword arguments; keywords that are set win."""
    given = _shallow_fields(args) if args is not None else {}
    # A CopiedAmiArgs also has source_region, which CopiedAmi handles itself.
    values = {
        field.name: given.get(field.name) for field in dataclasses.fields(ImageCopyArgs)
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    tags = values.get("tags")
    if isinstance(tags, Mapping):
        empty = sorted(str(key) for key, value in tags.items() if value is None)
        if empty:
            raise InvalidInputError(
                f"{resource_type}: tags {', '.join(empty)} have no value; give each "
                "tag a string value, or leave the tag out"
            )
    if values.get("source_ami_id") in (None, ""):
        raise InvalidInputError(
            f"{resource_type}: source_ami_id is missing; pass the id of the image "
            "to copy, e.g. source_ami_id='ami-0abcdef1234567890'"
        )
    return ImageCopyArgs(**values)


def keyword_inputs(local_names: Mapping[str, Any]) -> dict[str, Any]:
    """Pick the keyword inputs out of a resource constructor's locals()."""
    names = {field.name for field in dataclasses.fields(ImageCopyArgs)}
    return {key: value for key, value in local_names.items() if key in names}


def _shallow_fields(args: ImageCopyArgs) -> dict[str, Any]:
    # dataclasses.asdict would deep-copy the Outputs inside.
    return {field.name: getattr(args, field.name) for field in dataclasses.fields(args)}


def _resource_key(
    type_name: str, resource_name: str, opts: pulumi.ResourceOptions | None
) -> str:
    """Return the key of the copy token: project, stack, type and name.

    A resource with a parent adds the parent's type and name, because two
    components may each hold a child of the same type and name. The parent's
    URN would need a dependency on the parent, which Pulumi reports as a
    cycle. Stack-level resources keep the key that earlier releases gave them.
    """
    key = "/".join([pulumi.get_project(), pulumi.get_stack(), type_name, resource_name])
    parent = opts.parent if opts is not None else None
    parent_type = getattr(parent, "_type", None)
    parent_name = getattr(parent, "_name", None)
    if parent_type is None or parent_name is None:
        return key
    return f"{key}@{parent_type}::{parent_name}"

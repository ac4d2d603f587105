"""CopiedAmi: a copy of an image from one region into another, with lineage tags."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pulumi

from amitools_pulumi.errors import InvalidInputError
from amitools_pulumi.resource_base import (
    ImageCopyArgs,
    ImageCopyResource,
    keyword_inputs,
    merge_args,
)


@dataclasses.dataclass
class CopiedAmiArgs(ImageCopyArgs):
    """Inputs of CopiedAmi: those of every copy plus the source's region."""

    source_region: pulumi.Input[str] | None = None
    """Region of the source image. Required."""


class CopiedAmi(ImageCopyResource, module="amitools", name="CopiedAmi"):
    """CopiedAmi copies an image from `source_region` into `region`.

    `region` defaults to the current region (`aws:region` in the stack config,
    else boto3's default). The copy is tagged like a ClonedAmi; its
    `source_region` tag names the region it came from, so lineage queries
    follow it across regions. Destroy deregisters the copy and deletes the
    snapshots that the copy created.

    Example::

        import amitools_pulumi as amitools

        eu = amitools.CopiedAmi(
            "ubuntu-eu",
            source_ami_id=base.image_id,
            source_region="us-east-1",
            region="eu-west-1",
        )
    """

    def __init__(
        self,
        resource_name: str,
        args: CopiedAmiArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        source_ami_id: pulumi.Input[str] | None = None,
        source_region: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        name: pulumi.Input[str] | None = None,
        random_name_prefix: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        tags: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        encrypted: pulumi.Input[bool] | None = None,
        kms_key_id: pulumi.Input[str] | None = None,
        wait_timeout_minutes: pulumi.Input[int] | None = None,
        profile: pulumi.Input[str] | None = None,
        allow_delete_with_descendants: pulumi.Input[bool] | None = None,
        adopt_image_id: pulumi.Input[str] | None = None,
    ) -> None:
        source_region = source_region or getattr(args, "source_region", None)
        if source_region in (None, ""):
            raise InvalidInputError(
                "CopiedAmi: source_region is missing; pass the region that holds "
                "the source image, e.g. source_region='us-east-1'"
            )
        # Every keyword parameter is an input of the same name.
        merged = merge_args("CopiedAmi", args, keyword_inputs(locals()))
        self._register(resource_name, merged, source_region, opts)

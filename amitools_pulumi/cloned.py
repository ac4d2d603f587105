"""ClonedAmi: a copy of an image inside its own region, with lineage tags."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from amitools_pulumi.resource_base import (
    ImageCopyArgs,
    ImageCopyResource,
    keyword_inputs,
    merge_args,
)


class ClonedAmiArgs(ImageCopyArgs):
    """Inputs of ClonedAmi. The source image must live in `region`."""


class ClonedAmi(ImageCopyResource, module="amitools", name="ClonedAmi"):
    """ClonedAmi copies an image into a new image in the same region.

    The clone gets a new image id and its own snapshots, so it survives the
    withdrawal of the source image. It is tagged with the amitools lineage
    tags (`source_image`, `source_region`, `create_date`, `create_timestamp`)
    on the image and on its snapshots. Destroy deregisters the clone and
    deletes the snapshots that the copy created, never the source's.

    Example::

        import amitools_pulumi as amitools

        base = amitools.ClonedAmi("ubuntu-base", source_ami_id="ami-0abcdef1234567890")
        pulumi.export("base_image", base.image_id)
    """

    def __init__(
        self,
        resource_name: str,
        args: ClonedAmiArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        source_ami_id: pulumi.Input[str] | None = None,
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
        # Every keyword parameter is an input of the same name.
        merged = merge_args("ClonedAmi", args, keyword_inputs(locals()))
        self._register(resource_name, merged, None, opts)

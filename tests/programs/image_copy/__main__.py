"""One ClonedAmi or CopiedAmi built from stack config, for end-to-end tests.

Config: kind (clone or copy), sourceAmiId, sourceRegion, region, name,
randomNamePrefix, description, tags (a JSON object). Unset values stay unset.
"""

import pulumi

import amitools_pulumi as amitools

config = pulumi.Config()
common = {
    "source_ami_id": config.get("sourceAmiId"),
    "region": config.get("region"),
    "name": config.get("name"),
    "random_name_prefix": config.get("randomNamePrefix"),
    "description": config.get("description"),
    "tags": config.get_object("tags"),
}

if config.get("kind") == "copy":
    image = amitools.CopiedAmi(
        "image", source_region=config.get("sourceRegion"), **common
    )
else:
    image = amitools.ClonedAmi("image", **common)

for output in (
    "image_id",
    "name",
    "region",
    "source_ami_id",
    "source_region",
    "snapshot_ids",
    "lineage_tags",
    "creation_date",
    "tags",
):
    pulumi.export(output, getattr(image, output))

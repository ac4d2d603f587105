"""LineageTags on an image made outside Pulumi, and both lineage queries.

Config: imageId and sourceImage (required), sourceInstance, createTimestamp,
createDate, copyRegion (where imageId lives; default the stack's region),
resourceName (default adopted).
"""

import pulumi

import amitools_pulumi as amitools

config = pulumi.Config()
region = config.get("copyRegion") or pulumi.Config("aws").require("region")

adopted = amitools.LineageTags(
    config.get("resourceName") or "adopted",
    image_id=config.require("imageId"),
    region=region,
    source_image=config.require("sourceImage"),
    source_region=pulumi.Config("aws").require("region"),
    source_instance=config.get("sourceInstance"),
    create_timestamp=config.get_int("createTimestamp"),
    create_date=config.get("createDate"),
)

pulumi.export("lineage_tags", adopted.lineage_tags)
pulumi.export(
    "ancestors",
    amitools.Ancestors(config.require("imageId"), region, depends_on=[adopted]),
)
pulumi.export(
    "children",
    amitools.Children(
        config.require("sourceImage"),
        regions=[pulumi.Config("aws").require("region"), region],
        depends_on=[adopted],
    ),
)

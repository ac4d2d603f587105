"""One ClonedAmi or CopiedAmi built from stack config, for end-to-end tests.

Config: kind (clone or copy), sourceAmiId, sourceRegion, region, name,
randomNamePrefix, description, tags (a JSON object), encrypted, kmsKeyId,
waitTimeoutMinutes, allowDeleteWithDescendants, adoptImageId, and the
resource options importId and retainOnDelete. Unset values stay unset.
"""

import pulumi

import amitools_pulumi as amitools

config = pulumi.Config()
inputs = {
    "source_ami_id": config.get("sourceAmiId"),
    "region": config.get("region"),
    "name": config.get("name"),
    "random_name_prefix": config.get("randomNamePrefix"),
    "description": config.get("description"),
    "tags": config.get_object("tags"),
    "encrypted": config.get_bool("encrypted"),
    "kms_key_id": config.get("kmsKeyId"),
    "wait_timeout_minutes": config.get_int("waitTimeoutMinutes"),
    "allow_delete_with_descendants": config.get_bool("allowDeleteWithDescendants"),
    "adopt_image_id": config.get("adoptImageId"),
}
options = pulumi.ResourceOptions(
    import_=config.get("importId"),
    retain_on_delete=config.get_bool("retainOnDelete"),
)

if config.get("kind") == "copy":
    image = amitools.CopiedAmi(
        "image", opts=options, source_region=config.get("sourceRegion"), **inputs
    )
else:
    image = amitools.ClonedAmi("image", opts=options, **inputs)

for output in (
    "image_id",
    "name",
    "region",
    "source_ami_id",
    "source_region",
    "description",
    "tags",
    "encrypted",
    "snapshots_encrypted",
    "snapshot_ids",
    "lineage_tags",
    "lineage_tag_drift",
    "creation_date",
):
    pulumi.export(output, getattr(image, output))

"""Keep our own copy of a third-party foundation image and export its lineage.

The program clones Canonical's Ubuntu 16.04 image (in moto's catalog and, as a
deprecated image, in real AWS) inside the stack's region, copies the clone to a
second region, and exports every image descended from the foundation image.

Stack config (all optional):
  aws:region        region of the foundation image and the clone (us-east-1)
  copyRegion        region of the second copy (eu-west-1)
  foundationImage   id of the foundation image, instead of the name lookup
  foundationName    name to look up under foundationOwner
  foundationOwner   owner account of the foundation image (Canonical's)
"""

import boto3
import pulumi

import amitools_pulumi as amitools

UBUNTU_XENIAL = "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721"
CANONICAL = "099720109477"

config = pulumi.Config()
home_region = pulumi.Config("aws").get("region") or "us-east-1"
copy_region = config.get("copyRegion") or "eu-west-1"


def find_foundation_image() -> str:
    """Return the id of the newest image with the configured name and owner."""
    name = config.get("foundationName") or UBUNTU_XENIAL
    owner = config.get("foundationOwner") or CANONICAL
    ec2 = boto3.client("ec2", region_name=home_region)
    found = ec2.describe_images(
        Owners=[owner],
        Filters=[{"Name": "name", "Values": [name]}],
        IncludeDeprecated=True,
    )["Images"]
    if not found:
        raise ValueError(
            f"no image named {name!r} owned by {owner} in {home_region}; set "
            "foundationImage to an image id, or foundationName to an existing name"
        )
    return max(found, key=lambda image: image["CreationDate"])["ImageId"]


foundation_id = config.get("foundationImage") or find_foundation_image()

clone = amitools.ClonedAmi(
    "foundation-clone",
    source_ami_id=foundation_id,
    region=home_region,
    description="Our copy of the Ubuntu 16.04 foundation image",
    tags={"purpose": "foundation"},
)

copy = amitools.CopiedAmi(
    "foundation-copy",
    source_ami_id=clone.image_id,
    source_region=clone.region,
    region=copy_region,
    description="Our Ubuntu 16.04 foundation image, copied for a second region",
    tags={"purpose": "foundation"},
)

pulumi.export("foundation_image_id", foundation_id)
pulumi.export("foundation_region", home_region)
pulumi.export("clone_image_id", clone.image_id)
pulumi.export("clone_name", clone.name)
pulumi.export("copy_image_id", copy.image_id)
pulumi.export("copy_region", copy.region)
pulumi.export(
    "lineage",
    amitools.Children(foundation_id, home_region, depends_on=[clone, copy]),
)

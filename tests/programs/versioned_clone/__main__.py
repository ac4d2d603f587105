"""One ClonedAmi, and a log line naming the package version and folder in use.

Config: sourceAmiId (required).
"""

from pathlib import Path

import pulumi

import amitools_pulumi as amitools

pulumi.log.info(
    f"amitools_pulumi {amitools.__version__} from {Path(amitools.__file__).parent}"
)
image = amitools.ClonedAmi(
    "image", source_ami_id=pulumi.Config().require("sourceAmiId")
)
pulumi.export("image_id", image.image_id)
pulumi.export("name", image.name)
pulumi.export("lineage_tags", image.lineage_tags)

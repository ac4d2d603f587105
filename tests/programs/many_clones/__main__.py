"""`count` ClonedAmi resources of one source, for the load test.

Config: sourceAmiId (required), count (default 200).
"""

import pulumi

import amitools_pulumi as amitools

config = pulumi.Config()
source = config.require("sourceAmiId")
clones = [
    amitools.ClonedAmi(f"clone-{number}", source_ami_id=source)
    for number in range(config.get_int("count") or 200)
]
pulumi.export("image_ids", [clone.image_id for clone in clones])

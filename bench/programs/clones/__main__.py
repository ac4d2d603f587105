"""`count` ClonedAmi resources of one source image, for bench/clone_bench.py.

Config: sourceAmiId (required), count (required).
"""

import pulumi

import amitools_pulumi as amitools

config = pulumi.Config()
source = config.require("sourceAmiId")
clones = [
    amitools.ClonedAmi(f"clone-{number}", source_ami_id=source)
    for number in range(config.require_int("count"))
]
pulumi.export("image_ids", [clone.image_id for clone in clones])

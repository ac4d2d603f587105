"""Launch an EC2 instance (pulumi-aws) from a ClonedAmi.

The clone's `image_id` output feeds any resource that takes an AMI id, and
Pulumi orders the instance after the clone. The tests run this program under
Pulumi's mocks, because the pulumi-aws provider plugin is not installed here.

Stack config: foundationImage (required), instanceType (default t3.micro).
"""

import pulumi
import pulumi_aws as aws

import amitools_pulumi as amitools

config = pulumi.Config()

base = amitools.ClonedAmi(
    "app-base",
    source_ami_id=config.require("foundationImage"),
    region=pulumi.Config("aws").get("region") or "us-east-1",
    tags={"purpose": "app-base"},
)

server = aws.ec2.Instance(
    "app",
    ami=base.image_id,
    instance_type=config.get("instanceType") or "t3.micro",
    tags={"Name": "app", "source_image": base.image_id},
)

pulumi.export("base_image_id", base.image_id)
pulumi.export("instance_ami", server.ami)

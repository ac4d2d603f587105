"""The pulumi-aws interop example under Pulumi's mocks."""

from __future__ import annotations

import runpy
from typing import Any

import pulumi
import pytest

from tests.conftest import EXAMPLES

CLONE_ID = "ami-0123456789abcdef0"


class RecordingMocks(pulumi.runtime.Mocks):
    """Record every registration and give the clone a fixed image id."""

    def __init__(self) -> None:
        self.resources: dict[str, pulumi.runtime.MockResourceArgs] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources[args.name] = args
        if args.typ.startswith("pulumi-python:dynamic/amitools:"):
            return CLONE_ID, {**args.inputs, "image_id": CLONE_ID}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


@pytest.fixture
def mocks() -> RecordingMocks:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="interop", stack="test", preview=False)
    pulumi.runtime.set_all_config({"interop:foundationImage": "ami-12345678"})
    yield mocks
    pulumi.runtime.set_all_config({})


@pulumi.runtime.test
def test_instance_uses_the_clone_image_id(mocks: RecordingMocks) -> Any:
    program = runpy.run_path(str(EXAMPLES / "interop" / "__main__.py"))

    def check(values: list[Any]) -> None:
        instance_ami, base_image_id = values
        instance = mocks.resources["app"]
        clone = mocks.resources["app-base"]
        assert instance_ami == CLONE_ID
        assert base_image_id == CLONE_ID
        assert instance.typ == "aws:ec2/instance:Instance"
        assert instance.inputs["tags"]["source_image"] == CLONE_ID
        assert clone.typ == "pulumi-python:dynamic/amitools:ClonedAmi"
        assert clone.inputs["source_ami_id"] == "ami-12345678"

    # Both outputs resolve only after the mocks handled both registrations.
    return pulumi.Output.all(program["server"].ami, program["base"].image_id).apply(
        check
    )

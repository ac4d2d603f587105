"""The key that a copy token is derived from names one resource of the stack."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from amitools_pulumi import ClonedAmi


class Recorder(pulumi.runtime.Mocks):
    """Pulumi mocks that keep the inputs of every registered resource."""

    def __init__(self) -> None:
        self.inputs: dict[str, list[dict[str, Any]]] = {}

    def new_resource(self, args: Any) -> tuple[str, dict]:
        self.inputs.setdefault(args.name, []).append(dict(args.inputs))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: Any) -> dict:
        return {}


class Folder(pulumi.ComponentResource):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"test:index:{kind}", name)


@pytest.fixture
def recorder() -> Recorder:
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="proj", stack="dev", preview=False)
    return mocks


@pulumi.runtime.test
def test_children_of_two_components_get_different_keys(recorder: Recorder) -> Any:
    first = ClonedAmi(
        "image",
        source_ami_id="ami-12345678",
        region="us-east-1",
        opts=pulumi.ResourceOptions(parent=Folder("A", "group")),
    )
    second = ClonedAmi(
        "image",
        source_ami_id="ami-12345678",
        region="us-east-1",
        opts=pulumi.ResourceOptions(parent=Folder("B", "group")),
    )

    def check(_: Any) -> None:
        keys = {entry["resource_key"] for entry in recorder.inputs["image"]}
        assert len(keys) == 2

    return pulumi.Output.all(first.image_id, second.image_id).apply(check)


@pulumi.runtime.test
def test_stack_level_key_is_project_stack_type_name(recorder: Recorder) -> Any:
    image = ClonedAmi("top", source_ami_id="ami-12345678", region="us-east-1")

    def check(_: Any) -> None:
        key = recorder.inputs["top"][0]["resource_key"]
        assert key == "proj/dev/dynamic/amitools:ClonedAmi/top"

    return image.image_id.apply(check)

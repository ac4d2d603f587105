"""Bad input stops `pulumi preview` with a clear message, before any AWS write."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from tests.conftest import HOME_REGION, PROGRAMS
from tests.helpers import moto_image, own_image_ids
from tests.moto_faults import MarketplaceEmulation

pytestmark = pytest.mark.e2e

IMAGE_COPY = PROGRAMS / "image_copy"


def preview_error(stack: auto.Stack) -> str:
    """Run preview, expect it to fail, and return everything the CLI printed."""
    with pytest.raises(auto.errors.CommandError) as raised:
        stack.preview()
    return str(raised.value)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            {},
            "source_ami_id is missing; pass the id of the image to copy",
            id="missing-source",
        ),
        pytest.param(
            {"sourceAmiId": "ami-xyz"},
            "source_ami_id 'ami-xyz' is not a valid image id; an image id is 'ami-'",
            id="malformed-source",
        ),
        pytest.param(
            {"sourceAmiId": "ami-0123456789abcdef0"},
            "source image ami-0123456789abcdef0 was not found in region us-east-1",
            id="source-not-found",
        ),
        pytest.param(
            {"sourceAmiId": "FOUNDATION", "region": "us-nowhere-1"},
            "region 'us-nowhere-1' is not a known AWS region; use a region code",
            id="unknown-region",
        ),
        pytest.param(
            {
                "kind": "copy",
                "sourceAmiId": "FOUNDATION",
                "sourceRegion": "mars-central-1",
            },
            "source_region 'mars-central-1' is not a known AWS region",
            id="unknown-source-region",
        ),
    ],
)
def test_preview_rejects_bad_input(
    make_stack: Any,
    ec2: Any,
    foundation_image_id: str,
    config: dict[str, str],
    expected: str,
) -> None:
    config = {
        key: foundation_image_id if value == "FOUNDATION" else value
        for key, value in config.items()
    }
    stack = make_stack(IMAGE_COPY, config)
    before = own_image_ids(ec2(HOME_REGION))

    message = preview_error(stack)

    assert expected in message
    assert own_image_ids(ec2(HOME_REGION)) == before


def test_copied_ami_without_source_region_is_rejected(
    make_stack: Any, foundation_image_id: str
) -> None:
    stack = make_stack(IMAGE_COPY, {"kind": "copy", "sourceAmiId": foundation_image_id})

    message = preview_error(stack)

    assert "source_region is missing; pass the region that holds" in message


def test_marketplace_source_is_rejected_before_any_copy(
    make_stack: Any, ec2: Any, foundation_image_id: str, monkeypatch: Any
) -> None:
    client = ec2(HOME_REGION)
    source = client.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="seller"
    )["ImageId"]
    marketplace = MarketplaceEmulation(monkeypatch)
    marketplace.mark(moto_image(HOME_REGION, source))
    stack = make_stack(IMAGE_COPY, {"sourceAmiId": source})
    before = own_image_ids(client)

    message = preview_error(stack)

    assert f"source image {source} carries AWS Marketplace product code" in message
    assert "Launch an instance from it, create an image of that instance" in message
    assert own_image_ids(client) == before

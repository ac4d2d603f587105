"""find_children against the moto server, with images tagged through boto3."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from amitools_pulumi import find_children
from amitools_pulumi.errors import InvalidInputError
from amitools_pulumi.tags import dict_to_tags, lineage_tags
from tests.conftest import COPY_REGION, HOME_REGION

MOMENT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


@pytest.fixture
def make_copy(ec2: Any) -> Iterator[Any]:
    """Return a function that copies an image and tags it as a child; clean up."""
    made: list[tuple[str, str]] = []

    def copy(
        source: str, source_region: str, region: str, *, tags: dict | None = None
    ) -> str:
        client = ec2(region)
        image_id = client.copy_image(
            SourceImageId=source, SourceRegion=source_region, Name=f"test-{len(made)}"
        )["ImageId"]
        if tags is None:
            tags = lineage_tags(source, source_region, MOMENT + dt.timedelta(len(made)))
        client.create_tags(Resources=[image_id], Tags=dict_to_tags(tags))
        made.append((region, image_id))
        return image_id

    yield copy

    for region, image_id in made:
        ec2(region).deregister_image(ImageId=image_id)


def test_three_generations_across_two_regions(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    copy = make_copy(clone, HOME_REGION, COPY_REGION)
    grandchild = make_copy(copy, COPY_REGION, COPY_REGION)

    nodes = find_children(clone, HOME_REGION, regions=[HOME_REGION, COPY_REGION])

    assert [node.image_id for node in nodes] == [copy, grandchild]
    assert [node.depth for node in nodes] == [1, 2]
    assert [node.region for node in nodes] == [COPY_REGION, COPY_REGION]
    assert nodes[1].parent_image_id == copy
    assert nodes[1].parent_region == COPY_REGION


def test_nodes_carry_dates_from_the_tags(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    child = make_copy(clone, HOME_REGION, HOME_REGION)

    (node,) = find_children(clone, HOME_REGION, regions=[HOME_REGION])

    assert node.image_id == child
    assert node.create_date == "20260103T030405Z"
    assert node.create_timestamp == int((MOMENT + dt.timedelta(1)).timestamp())


def test_default_scope_is_every_enabled_region(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    far = make_copy(clone, HOME_REGION, "ap-southeast-2")

    nodes = find_children(clone, HOME_REGION)

    assert [node.image_id for node in nodes] == [far]


def test_regions_narrow_the_search(make_copy: Any, foundation_image_id: str) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    make_copy(clone, HOME_REGION, COPY_REGION)

    assert find_children(clone, HOME_REGION, regions=[HOME_REGION]) == []


def test_max_depth_stops_the_walk(make_copy: Any, foundation_image_id: str) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    child = make_copy(clone, HOME_REGION, HOME_REGION)
    make_copy(child, HOME_REGION, HOME_REGION)

    nodes = find_children(clone, HOME_REGION, regions=[HOME_REGION], max_depth=1)

    assert [node.image_id for node in nodes] == [child]


def test_children_sorted_by_creation(make_copy: Any, foundation_image_id: str) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    first = make_copy(clone, HOME_REGION, HOME_REGION)
    second = make_copy(clone, HOME_REGION, HOME_REGION)

    nodes = find_children(clone, HOME_REGION, regions=[HOME_REGION])

    assert [node.image_id for node in nodes] == [first, second]


def test_tag_cycle_is_listed_once(
    make_copy: Any, ec2: Any, foundation_image_id: str
) -> None:
    first = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    second = make_copy(first, HOME_REGION, HOME_REGION)
    # A hand-edited tag makes `first` a child of its own child.
    ec2(HOME_REGION).create_tags(
        Resources=[first], Tags=[{"Key": "source_image", "Value": second}]
    )

    nodes = find_children(first, HOME_REGION, regions=[HOME_REGION])

    assert [node.image_id for node in nodes] == [second]


def test_child_without_source_region_has_its_parent_in_its_region(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    child = make_copy(clone, HOME_REGION, HOME_REGION, tags={"source_image": clone})

    (node,) = find_children(clone, HOME_REGION, regions=[HOME_REGION])

    assert node.image_id == child
    assert node.parent_region == HOME_REGION


def test_child_without_date_tags_uses_the_creation_date(
    make_copy: Any, ec2: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    child = make_copy(clone, HOME_REGION, HOME_REGION, tags={"source_image": clone})
    created = ec2(HOME_REGION).describe_images(ImageIds=[child])["Images"][0][
        "CreationDate"
    ]
    expected = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))

    (node,) = find_children(clone, HOME_REGION, regions=[HOME_REGION])

    assert node.create_timestamp == int(expected.timestamp())
    assert node.create_date == expected.strftime("%Y%m%dT%H%M%SZ")


def test_bad_image_id_is_rejected(moto_endpoint: str) -> None:
    with pytest.raises(InvalidInputError, match="image_id 'ami-nope' is not a valid"):
        find_children("ami-nope", HOME_REGION)


def test_unknown_region_in_scope_is_rejected(moto_endpoint: str) -> None:
    with pytest.raises(InvalidInputError, match="'moon-1' is not a known AWS region"):
        find_children("ami-12345678", HOME_REGION, regions=["moon-1"])

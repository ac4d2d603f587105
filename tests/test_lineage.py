"""find_children against the moto server, with images tagged through boto3."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from amitools_pulumi import aws, find_ancestors, find_children
from amitools_pulumi.errors import ImageNotFoundError, InvalidInputError
from amitools_pulumi.tags import dict_to_tags, lineage_tags
from tests.conftest import COPY_REGION, HOME_REGION
from tests.helpers import moto_image

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
        try:
            ec2(region).deregister_image(ImageId=image_id)
        except ClientError as error:
            # A test may have deregistered it already.
            assert error.response["Error"]["Code"].startswith("InvalidAMIID")


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

    assert find_children(clone, HOME_REGION, regions=[HOME_REGION]).nodes == []


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


def test_tag_cycle_is_reported_not_walked(
    make_copy: Any, ec2: Any, foundation_image_id: str
) -> None:
    first = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    second = make_copy(first, HOME_REGION, HOME_REGION)
    # A hand-edited tag makes `first` a child of its own child.
    ec2(HOME_REGION).create_tags(
        Resources=[first], Tags=[{"Key": "source_image", "Value": second}]
    )

    nodes = find_children(first, HOME_REGION, regions=[HOME_REGION])

    assert [node.image_id for node in nodes] == [second, first]
    assert [node.cycle for node in nodes] == [False, True]


def test_missing_source_region_means_same_region(
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


def set_native_parent(
    region: str, image_id: str, parent: str, parent_region: str
) -> None:
    """Give a moto image EC2's native parent attributes, which moto leaves empty."""
    image = moto_image(region, image_id)
    image.source_image_id = parent
    image.source_image_region = parent_region


def test_fan_out_of_fifty_children(make_copy: Any, foundation_image_id: str) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    children = {make_copy(clone, HOME_REGION, HOME_REGION) for _ in range(50)}

    nodes = find_children(clone, HOME_REGION, regions=[HOME_REGION])

    assert {node.image_id for node in nodes} == children
    assert {node.depth for node in nodes} == {1}


def test_evidence_tag_native_and_both(make_copy: Any, foundation_image_id: str) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    tagged = make_copy(clone, HOME_REGION, HOME_REGION)
    native = make_copy(clone, HOME_REGION, COPY_REGION, tags={"team": "x"})
    both = make_copy(clone, HOME_REGION, HOME_REGION)
    set_native_parent(COPY_REGION, native, clone, HOME_REGION)
    set_native_parent(HOME_REGION, both, clone, HOME_REGION)

    nodes = find_children(clone, HOME_REGION, regions=[HOME_REGION, COPY_REGION])
    evidence = {node.image_id: node.evidence for node in nodes}

    assert evidence == {tagged: "tag", native: "native", both: "both"}


def test_conflicting_evidence_is_reported(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    child = make_copy(clone, HOME_REGION, HOME_REGION)
    set_native_parent(HOME_REGION, child, "ami-0123456789abcdef0", COPY_REGION)

    (node,) = find_children(clone, HOME_REGION, regions=[HOME_REGION])

    assert node.evidence == "both"
    assert node.conflict == (
        f"tags name {clone} (us-east-1), but EC2's SourceImageId names "
        "ami-0123456789abcdef0 (eu-west-1)"
    )


def test_self_reference_is_not_a_child(
    make_copy: Any, ec2: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    ec2(HOME_REGION).create_tags(
        Resources=[clone], Tags=[{"Key": "source_image", "Value": clone}]
    )

    assert find_children(clone, HOME_REGION, regions=[HOME_REGION]).nodes == []


def test_unreadable_region_is_reported_not_fatal(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    child = make_copy(clone, HOME_REGION, HOME_REGION)
    client = aws.ec2_client(COPY_REGION)

    # Real EC2 returns UnauthorizedOperation where a policy denies a region.
    def deny(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "UnauthorizedOperation", "Message": "denied"}},
            "DescribeImages",
        )

    client.meta.events.register("before-call.ec2.DescribeImages", deny)
    try:
        lineage = find_children(clone, HOME_REGION, regions=[HOME_REGION, COPY_REGION])
    finally:
        client.meta.events.unregister("before-call.ec2.DescribeImages", deny)

    assert [node.image_id for node in lineage] == [child]
    assert lineage.region_errors == {COPY_REGION: "UnauthorizedOperation: denied"}


def test_ancestors_reach_the_vendor_image(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    copy = make_copy(clone, HOME_REGION, COPY_REGION)
    grandchild = make_copy(copy, COPY_REGION, COPY_REGION)

    nodes = find_ancestors(grandchild, COPY_REGION)

    assert [node.image_id for node in nodes] == [copy, clone, foundation_image_id]
    assert [node.region for node in nodes] == [COPY_REGION, HOME_REGION, HOME_REGION]
    assert [node.depth for node in nodes] == [1, 2, 3]
    assert nodes[2].owner == "099720109477"
    assert nodes[2].evidence == "none"


def test_ancestors_follow_native_attributes(
    make_copy: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    native = make_copy(clone, HOME_REGION, COPY_REGION, tags={"team": "x"})
    set_native_parent(COPY_REGION, native, clone, HOME_REGION)

    nodes = find_ancestors(native, COPY_REGION)

    assert [node.image_id for node in nodes] == [clone, foundation_image_id]


def test_missing_parent_ends_ancestors_with_a_gap(
    make_copy: Any, ec2: Any, foundation_image_id: str
) -> None:
    clone = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    child = make_copy(clone, HOME_REGION, HOME_REGION)
    ec2(HOME_REGION).deregister_image(ImageId=clone)

    nodes = find_ancestors(child, HOME_REGION)

    assert [node.image_id for node in nodes] == [clone]
    assert nodes[0].missing is True
    assert nodes[0].state == "missing"


def test_ancestor_cycle_stops_the_walk(
    make_copy: Any, ec2: Any, foundation_image_id: str
) -> None:
    first = make_copy(foundation_image_id, HOME_REGION, HOME_REGION)
    second = make_copy(first, HOME_REGION, HOME_REGION)
    ec2(HOME_REGION).create_tags(
        Resources=[first], Tags=[{"Key": "source_image", "Value": second}]
    )

    nodes = find_ancestors(second, HOME_REGION)

    assert [node.image_id for node in nodes] == [first, second]
    assert nodes[1].cycle is True


def test_ancestors_of_a_missing_image_raise(moto_endpoint: str) -> None:
    with pytest.raises(ImageNotFoundError, match="ami-0123456789abcdef0 was not found"):
        find_ancestors("ami-0123456789abcdef0", HOME_REGION)


def test_max_depth_must_be_positive(moto_endpoint: str) -> None:
    with pytest.raises(InvalidInputError, match="max_depth 0 is invalid"):
        find_children("ami-12345678", HOME_REGION, max_depth=0)


def test_regions_given_as_a_string_are_rejected(moto_endpoint: str) -> None:
    with pytest.raises(InvalidInputError, match="regions 'us-east-1' is a string"):
        find_children("ami-12345678", HOME_REGION, regions="us-east-1")

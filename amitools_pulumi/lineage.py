"""Lineage queries: the descendants of an image, across regions.

An image's parent is named by its `source_image` and `source_region` tags (an
image without `source_region` has its parent in its own region). To find the
descendants of one image, each region in scope is listed once, with a
server-side filter to this account's images that carry a `source_image` tag,
and the tree is walked in memory. The cost is one paginated DescribeImages per
region, whatever the depth.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import pulumi

from amitools_pulumi import aws, images, validation
from amitools_pulumi.errors import InvalidInputError
from amitools_pulumi.tags import (
    CREATE_DATE,
    CREATE_TIMESTAMP,
    SOURCE_IMAGE,
    SOURCE_REGION,
    format_create_date,
    tags_to_dict,
)

logger = logging.getLogger(__name__)

_MAX_WORKERS = 8


@dataclass(frozen=True)
class LineageNode:
    """One image in a lineage, with its place relative to the queried image."""

    image_id: str
    name: str
    region: str
    parent_image_id: str
    parent_region: str
    depth: int
    create_date: str
    create_timestamp: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def enabled_regions(region: str, profile: str | None = None) -> list[str]:
    """Return the regions enabled for the account, asking EC2 in `region`."""
    response = aws.ec2_client(region, profile).describe_regions()
    return sorted(entry["RegionName"] for entry in response["Regions"])


def list_tagged_images(region: str, profile: str | None = None) -> list[dict[str, Any]]:
    """Return this account's images in `region` that carry a `source_image` tag."""
    paginator = aws.ec2_client(region, profile).get_paginator("describe_images")
    pages = paginator.paginate(
        Owners=["self"],
        Filters=[{"Name": "tag-key", "Values": [SOURCE_IMAGE]}],
    )
    return [image for page in pages for image in page["Images"]]


def _node(image: dict[str, Any], region: str, depth: int) -> LineageNode:
    tags = tags_to_dict(image.get("Tags"))
    timestamp = tags.get(CREATE_TIMESTAMP, "")
    if timestamp.isdigit():
        create_timestamp = int(timestamp)
    else:
        # Images tagged without a timestamp fall back to EC2's creation time.
        created = dt.datetime.fromisoformat(
            image["CreationDate"].replace("Z", "+00:00")
        )
        create_timestamp = int(created.timestamp())
    create_date = tags.get(CREATE_DATE) or format_create_date(
        dt.datetime.fromtimestamp(create_timestamp, dt.timezone.utc)
    )
    return LineageNode(
        image_id=image["ImageId"],
        name=image.get("Name", ""),
        region=region,
        parent_image_id=tags[SOURCE_IMAGE],
        parent_region=tags.get(SOURCE_REGION) or region,
        depth=depth,
        create_date=create_date,
        create_timestamp=create_timestamp,
    )


def find_children(
    image_id: str,
    region: str | None = None,
    *,
    regions: Iterable[str] | None = None,
    max_depth: int | None = None,
    profile: str | None = None,
) -> list[LineageNode]:
    """Return the descendants of `image_id` in `region`, nearest first.

    `region` defaults to the stack's `aws:region`, else boto3's default
    region. `regions` limits the regions searched for descendants (default:
    every region enabled for the account). `max_depth` stops the walk after that
    many generations. The result is sorted by depth, then creation time, then
    image id. An image reached twice (a tag cycle) is listed once. `profile`
    selects the AWS profile; None uses boto3's default credential chain.
    """
    validation.require_valid(validation.check_image_id("image_id", image_id))
    region = aws.resolve_region(region)
    validation.require_valid(validation.check_region("region", region))
    if isinstance(regions, str):
        raise InvalidInputError(
            f"regions {regions!r} is a string; pass a list of region names, "
            f"e.g. regions=[{regions!r}]"
        )
    if regions is not None:
        scope = sorted(set(regions))
    else:
        scope = enabled_regions(region, profile)
    for scoped in scope:
        validation.require_valid(validation.check_region("regions", scoped))

    # One listing per region, run concurrently; then index children by parent.
    with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, max(1, len(scope)))) as pool:
        results = pool.map(lambda name: list_tagged_images(name, profile), scope)
        listings = dict(zip(scope, results, strict=True))
    children_of: dict[tuple[str, str], list[tuple[dict[str, Any], str]]] = defaultdict(
        list
    )
    for listed_region, listed in listings.items():
        for image in listed:
            tags = tags_to_dict(image.get("Tags"))
            parent = (tags[SOURCE_IMAGE], tags.get(SOURCE_REGION) or listed_region)
            children_of[parent].append((image, listed_region))

    found: list[LineageNode] = []
    seen = {(image_id, region)}
    frontier = [(image_id, region)]
    depth = 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        next_frontier = []
        for parent in frontier:
            for image, child_region in children_of.get(parent, []):
                key = (image["ImageId"], child_region)
                if key in seen:
                    logger.warning("image %s in %s is reached twice; skipped", *key)
                    continue
                seen.add(key)
                found.append(_node(image, child_region, depth))
                next_frontier.append(key)
        frontier = next_frontier

    if (
        not found
        and images.describe_image(aws.ec2_client(region, profile), image_id) is None
    ):
        # A withdrawn image can still have descendants, so this is no error;
        # but with none found, a mistyped id deserves a hint.
        logger.warning(
            "image %s was not found in %s and has no descendants there; "
            "check the id and the region",
            image_id,
            region,
        )
    found.sort(key=lambda node: (node.depth, node.create_timestamp, node.image_id))
    return found


def Children(  # noqa: N802 - named like a resource, as Pulumi programs use it
    image_id: pulumi.Input[str],
    region: pulumi.Input[str] | None = None,
    *,
    regions: Sequence[str] | None = None,
    max_depth: int | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> pulumi.Output[list[dict[str, Any]]]:
    """Return an Output with the descendants of `image_id`, for `pulumi.export`.

    Each item is a dict with `image_id`, `name`, `region`, `parent_image_id`,
    `parent_region`, `depth`, `create_date` and `create_timestamp`. `region`
    defaults to the program's region. The query runs once its inputs are
    known and once every resource in `depends_on` exists, so a lineage that
    includes images made in the same program lists them.

    Example::

        pulumi.export("lineage", amitools.Children(base_id, depends_on=[copy]))
    """
    resolved_region = region if region is not None else aws.resolve_region(None)
    # A custom resource's id resolves once the resource exists; a component
    # has no id, so its URN is the closest thing to wait for.
    waits = [getattr(resource, "id", resource.urn) for resource in depends_on]
    return pulumi.Output.all(image_id, resolved_region, *waits).apply(
        lambda values: [
            node.to_dict()
            for node in find_children(
                values[0], values[1], regions=regions, max_depth=max_depth
            )
        ]
    )

"""Lineage queries: the descendants and the ancestors of an image, across regions.

Two kinds of evidence link an image to its parent: the amitools tags
`source_image` and `source_region` (no `source_region` tag means the child's
own region), and EC2's native `SourceImageId` and `SourceImageRegion`
attributes, which AWS sets on images made by CreateImage or CopyImage since
that feature exists. The tags win where both exist and disagree; the node then
reports the conflict.

A query lists each region in scope once: one paginated DescribeImages with
`Owners=["self"]` per region, run concurrently. Tags and native attributes
cannot be combined in one server-side filter (filters of different names are
ANDed), so the listing takes the account's own images and classifies them
here. Walking the graph afterwards costs no further call, whatever the depth.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import botocore.exceptions

from amitools_pulumi import aws, images, validation
from amitools_pulumi.errors import ImageNotFoundError, InvalidInputError
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

Evidence = Literal["tag", "native", "both", "none"]
ImageKey = tuple[str, str]  # (image id, region)


@dataclass(frozen=True)
class ImageRecord:
    """One image as listed, with the parents that its tags and attributes name."""

    image_id: str
    region: str
    name: str
    owner: str
    state: str
    create_date: str
    create_timestamp: int
    tag_parent: ImageKey | None
    native_parent: ImageKey | None

    @property
    def key(self) -> ImageKey:
        return (self.image_id, self.region)

    @property
    def parent(self) -> ImageKey | None:
        """The parent to follow: the tags' when present, else the native one."""
        return self.tag_parent or self.native_parent

    @property
    def evidence(self) -> Evidence:
        if self.tag_parent and self.native_parent:
            return "both"
        if self.tag_parent:
            return "tag"
        return "native" if self.native_parent else "none"

    @property
    def conflict(self) -> str | None:
        if (
            self.tag_parent
            and self.native_parent
            and self.tag_parent != self.native_parent
        ):
            return (
                f"tags name {self.tag_parent[0]} ({self.tag_parent[1]}), but EC2's "
                f"SourceImageId names {self.native_parent[0]} ({self.native_parent[1]})"
            )
        return None


@dataclass(frozen=True)
class LineageNode:
    """One image in a lineage, placed relative to the queried image.

    `depth` counts generations from the queried image: 1 for its children (or
    its parent, for ancestors). `missing` marks a parent that no longer exists:
    only its id and region are known. `cycle` marks an image whose tags lead
    back into the lineage; the walk stops there.
    """

    image_id: str
    name: str
    region: str
    parent_image_id: str | None
    parent_region: str | None
    depth: int
    create_date: str
    create_timestamp: int | None
    owner: str
    state: str
    evidence: Evidence
    conflict: str | None = None
    missing: bool = False
    cycle: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Lineage:
    """The result of a query: the nodes, and what could not be read."""

    image_id: str
    region: str
    direction: Literal["children", "ancestors"]
    nodes: list[LineageNode] = field(default_factory=list)
    region_errors: dict[str, str] = field(default_factory=dict)
    """Regions that could not be listed, with the reason; the query went on."""

    def __iter__(self) -> Iterator[LineageNode]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, index: int) -> LineageNode:
        return self.nodes[index]

    def to_dict(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "region": self.region,
            "direction": self.direction,
            "nodes": [node.to_dict() for node in self.nodes],
            "region_errors": dict(self.region_errors),
        }


_ASCII_DIGITS = re.compile(r"^[0-9]{1,12}$")


def _tagged_timestamp(text: str) -> int | None:
    """Return a `create_timestamp` tag as epoch seconds, or None when unusable.

    Hand-written tags can hold milliseconds or garbage; such an image falls
    back to EC2's creation time instead of breaking the whole query.
    """
    if not _ASCII_DIGITS.match(text):
        return None
    value = int(text)
    try:
        dt.datetime.fromtimestamp(value, dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return value


def record_from(image: dict[str, Any], region: str) -> ImageRecord:
    """Build the record of one DescribeImages entry listed in `region`."""
    tags = tags_to_dict(image.get("Tags"))
    tag_parent = None
    if tags.get(SOURCE_IMAGE):
        tag_parent = (tags[SOURCE_IMAGE], tags.get(SOURCE_REGION) or region)
    native_parent = None
    if image.get("SourceImageId"):
        native_parent = (
            image["SourceImageId"],
            image.get("SourceImageRegion") or region,
        )

    create_timestamp = _tagged_timestamp(tags.get(CREATE_TIMESTAMP, ""))
    if create_timestamp is None:
        # Without a usable timestamp tag, EC2's creation time is used.
        created = dt.datetime.fromisoformat(
            image["CreationDate"].replace("Z", "+00:00")
        )
        create_timestamp = int(created.timestamp())
    create_date = tags.get(CREATE_DATE) or format_create_date(
        dt.datetime.fromtimestamp(create_timestamp, dt.timezone.utc)
    )
    return ImageRecord(
        image_id=image["ImageId"],
        region=region,
        name=image.get("Name", ""),
        owner=image.get("OwnerId", ""),
        state=image.get("State", ""),
        create_date=create_date,
        create_timestamp=create_timestamp,
        tag_parent=tag_parent,
        native_parent=native_parent,
    )


def enabled_regions(region: str, profile: str | None = None) -> list[str]:
    """Return the regions enabled for the account, asking EC2 in `region`."""
    response = aws.ec2_client(region, profile).describe_regions()
    return sorted(entry["RegionName"] for entry in response["Regions"])


def list_own_images(
    region: str, profile: str | None = None, include_deregistered: bool = False
) -> list[dict[str, Any]]:
    """Return this account's images in `region`, every page of them."""
    paginator = aws.ec2_client(region, profile).get_paginator("describe_images")
    request: dict[str, Any] = {"Owners": ["self"], "IncludeDeprecated": True}
    if include_deregistered:
        request["IncludeDisabled"] = True
    listed = [
        image for page in paginator.paginate(**request) for image in page["Images"]
    ]
    if include_deregistered:
        return listed
    return [image for image in listed if image.get("State") != "deregistered"]


@dataclass
class LineageIndex:
    """Every listed image of the regions in scope, indexed by key and by parent."""

    records: dict[ImageKey, ImageRecord] = field(default_factory=dict)
    children_of: dict[ImageKey, list[ImageRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    region_errors: dict[str, str] = field(default_factory=dict)
    self_references: list[ImageKey] = field(default_factory=list)

    def add(self, record: ImageRecord) -> None:
        self.records[record.key] = record
        parent = record.parent
        if parent is None:
            return
        if parent == record.key:
            self.self_references.append(record.key)
            logger.warning("image %s in %s names itself as its parent", *record.key)
            return
        self.children_of[parent].append(record)


def build_index(
    scope: Iterable[str], profile: str | None = None, include_deregistered: bool = False
) -> LineageIndex:
    """List every region in `scope` concurrently and index the images.

    A region that cannot be listed (no permission, not enabled) is recorded in
    `region_errors` and skipped, so the other regions still count.
    """
    index = LineageIndex()
    regions = sorted(set(scope))

    def list_region(region: str) -> tuple[str, list[dict[str, Any]] | str]:
        try:
            return region, list_own_images(region, profile, include_deregistered)
        except botocore.exceptions.ClientError as error:
            code = images.error_code(error)
            logger.warning("could not list images in %s: %s", region, error)
            return (
                region,
                f"{code}: {error.response.get('Error', {}).get('Message', '')}",
            )
        except botocore.exceptions.EndpointConnectionError as error:
            logger.warning("could not reach EC2 in %s: %s", region, error)
            return region, f"unreachable: {error}"

    workers = min(_MAX_WORKERS, max(1, len(regions)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for region, result in pool.map(list_region, regions):
            if isinstance(result, str):
                index.region_errors[region] = result
                continue
            for image in result:
                index.add(record_from(image, region))
    return index


def _resolve_scope(
    region: str, regions: Iterable[str] | None, profile: str | None
) -> list[str]:
    if isinstance(regions, str):
        raise InvalidInputError(
            f"regions {regions!r} is a string; pass a list of region names, "
            f"e.g. regions=[{regions!r}]"
        )
    if regions is None:
        return enabled_regions(region, profile)
    scope = sorted(set(regions))
    if not scope:
        raise InvalidInputError(
            "regions is empty; name at least one region, or leave regions unset "
            "to search every enabled region"
        )
    for scoped in scope:
        validation.require_valid(validation.check_region("regions", scoped))
    return scope


def _check_query(image_id: str, region: str | None, max_depth: int | None) -> str:
    validation.require_valid(validation.check_image_id("image_id", image_id))
    resolved = aws.resolve_region(region)
    validation.require_valid(validation.check_region("region", resolved))
    if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 1):
        raise InvalidInputError(
            f"max_depth {max_depth!r} is invalid; give a whole number of "
            "generations, 1 or more, or None for no limit"
        )
    return resolved


def _node(record: ImageRecord, depth: int, *, cycle: bool = False) -> LineageNode:
    parent = record.parent
    return LineageNode(
        image_id=record.image_id,
        name=record.name,
        region=record.region,
        parent_image_id=parent[0] if parent else None,
        parent_region=parent[1] if parent else None,
        depth=depth,
        create_date=record.create_date,
        create_timestamp=record.create_timestamp,
        owner=record.owner,
        state=record.state,
        evidence=record.evidence,
        conflict=record.conflict,
        cycle=cycle,
    )


def find_children(
    image_id: str,
    region: str | None = None,
    *,
    regions: Iterable[str] | None = None,
    max_depth: int | None = None,
    profile: str | None = None,
    include_deregistered: bool = False,
) -> Lineage:
    """Return the descendants of `image_id` in `region`, nearest first.

    `region` defaults to the stack's `aws:region`, else boto3's default
    region. `regions` limits the regions searched (default: every region
    enabled for the account). `max_depth` stops after that many generations.
    Deregistered images are left out unless `include_deregistered` is set.
    Nodes are sorted by depth, then creation time, then image id; an image
    reached again (a tag cycle) is marked `cycle` and not walked further.
    """
    region = _check_query(image_id, region, max_depth)
    scope = _resolve_scope(region, regions, profile)
    index = build_index(scope, profile, include_deregistered)
    lineage = Lineage(image_id, region, "children", region_errors=index.region_errors)
    lineage.nodes = children_in(index, image_id, region, max_depth)

    if not lineage.nodes and (image_id, region) not in index.records:
        # A withdrawn image can still have descendants, so this is no error;
        # but with none found, a mistyped id deserves a hint.
        if images.describe_image(aws.ec2_client(region, profile), image_id) is None:
            logger.warning(
                "image %s was not found in %s and has no descendants there; "
                "check the id and the region",
                image_id,
                region,
            )
    return lineage


def children_in(
    index: LineageIndex, image_id: str, region: str, max_depth: int | None = None
) -> list[LineageNode]:
    """Walk the descendants of `image_id` in `index`, sorted nearest first.

    Nodes are sorted by depth, then creation time, then image id.
    """
    nodes = []
    seen = {(image_id, region)}
    frontier = [(image_id, region)]
    depth = 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        next_frontier = []
        for parent in frontier:
            for record in index.children_of.get(parent, []):
                if record.key in seen:
                    logger.warning(
                        "image %s in %s is reached twice: a tag cycle", *record.key
                    )
                    nodes.append(_node(record, depth, cycle=True))
                    continue
                seen.add(record.key)
                nodes.append(_node(record, depth))
                next_frontier.append(record.key)
        frontier = next_frontier
    nodes.sort(key=lambda node: (node.depth, node.create_timestamp or 0, node.image_id))
    return nodes


def find_ancestors(
    image_id: str,
    region: str | None = None,
    *,
    max_depth: int | None = None,
    profile: str | None = None,
    use_native_ancestry: bool = True,
) -> Lineage:
    """Return the ancestors of `image_id`: its parent first, then the parent's parent.

    Each step reads one image by id, in the region its child names, so the
    walk also reaches images of other owners (a vendor's foundation image). A
    parent that no longer exists ends the walk with a `missing` node. When
    `use_native_ancestry` is set and the tags run out, EC2's GetImageAncestry
    continues the chain; where that call is not supported, the native
    `SourceImageId` attributes of each image are used alone.
    """
    region = _check_query(image_id, region, max_depth)
    lineage = Lineage(image_id, region, "ancestors")
    start = _read_record(image_id, region, profile)
    if start is None:
        raise ImageNotFoundError(
            f"image {image_id} was not found in region {region}; check the id and "
            "the region"
        )

    native_chain = (
        _native_ancestry(image_id, region, profile) if use_native_ancestry else {}
    )
    seen = {start.key}
    current = start
    depth = 0
    while max_depth is None or depth < max_depth:
        parent = current.parent or native_chain.get(current.key)
        if parent is None:
            break
        depth += 1
        record = _read_record(parent[0], parent[1], profile)
        if record is None:
            lineage.nodes.append(_missing_node(parent, depth))
            break
        if record.native_parent is None and record.key in native_chain:
            record = _with_native_parent(record, native_chain[record.key])
        if record.key in seen:
            logger.warning("image %s in %s is reached twice: a tag cycle", *record.key)
            lineage.nodes.append(_node(record, depth, cycle=True))
            break
        seen.add(record.key)
        lineage.nodes.append(_node(record, depth))
        current = record
    return lineage


def _read_record(image_id: str, region: str, profile: str | None) -> ImageRecord | None:
    # A hand-written tag can name a region or id that cannot exist.
    if validation.check_region("region", region) or validation.check_image_id(
        "image_id", image_id
    ):
        logger.warning(
            "a lineage tag names %s in %s, which cannot exist", image_id, region
        )
        return None
    try:
        image = images.describe_image(aws.ec2_client(region, profile), image_id)
    except botocore.exceptions.ClientError as error:
        if images.error_code(error) in ("InvalidAMIID.Malformed",):
            return None
        raise
    if image is None or image.get("State") == "deregistered":
        return None
    return record_from(image, region)


def _missing_node(key: ImageKey, depth: int) -> LineageNode:
    return LineageNode(
        image_id=key[0],
        name="",
        region=key[1],
        parent_image_id=None,
        parent_region=None,
        depth=depth,
        create_date="",
        create_timestamp=None,
        owner="",
        state="missing",
        evidence="none",
        missing=True,
    )


def _with_native_parent(record: ImageRecord, parent: ImageKey) -> ImageRecord:
    values = asdict(record)
    values["native_parent"] = parent
    return ImageRecord(**values)


# Endpoints (None: AWS's own) found not to support GetImageAncestry, so that
# each process pays for the failed call, and its retries, once.
_ANCESTRY_UNSUPPORTED: set[str | None] = set()


def _native_ancestry(
    image_id: str, region: str, profile: str | None
) -> dict[ImageKey, ImageKey]:
    """Return child → parent links from GetImageAncestry, or {} where unsupported."""
    from botocore.parsers import ResponseParserError

    client = aws.ec2_client(region, profile)
    endpoint = client.meta.endpoint_url if aws.custom_endpoint() else None
    if endpoint in _ANCESTRY_UNSUPPORTED:
        return {}
    try:
        entries = client.get_image_ancestry(ImageId=image_id)["ImageAncestryEntries"]
    except botocore.exceptions.ClientError as error:
        # Missing permission or an unknown image: fall back for this call only.
        logger.info("GetImageAncestry failed for %s: %s", image_id, error)
        return {}
    except (botocore.exceptions.BotoCoreError, ResponseParserError) as error:
        # An endpoint that does not know the action returns an error page.
        logger.info("GetImageAncestry is not supported here: %s", error)
        _ANCESTRY_UNSUPPORTED.add(endpoint)
        return {}

    links: dict[ImageKey, ImageKey] = {}
    child_region = region
    for entry in entries:
        child = (entry["ImageId"], child_region)
        if entry.get("SourceImageId"):
            parent_region = entry.get("SourceImageRegion") or child_region
            links[child] = (entry["SourceImageId"], parent_region)
            child_region = parent_region
    return links

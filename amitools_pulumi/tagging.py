"""Adopt an existing image into the lineage: write its amitools lineage tags.

`tag_image` is the plain function behind the `amitools tag` command and the
`LineageTags` resource. The caller gives exactly one of `create_date` and
`create_timestamp`; the other is derived, so both always name one instant.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
)

from amitools_pulumi import aws, images, validation
from amitools_pulumi.errors import ImageNotFoundError, InvalidInputError
from amitools_pulumi.provider import is_unknown
from amitools_pulumi.tags import (
    LINEAGE_TAG_KEYS,
    format_create_date,
    lineage_tags,
    parse_create_date,
    tags_to_dict,
)

# Marks which LineageTags resource wrote an image's lineage tags.
OWNER_TAG = "amitools-pulumi:lineage-tags-by"

# Dates before EC2 images existed, or far in the future, are typing mistakes.
_EARLIEST = dt.datetime(2006, 1, 1, tzinfo=dt.timezone.utc)
_LATEST_OFFSET = dt.timedelta(days=1)


def resolve_instant(
    create_date: str | None, create_timestamp: int | str | None
) -> dt.datetime:
    """Return the moment named by exactly one of the two date inputs.

    Raises InvalidInputError when both or neither are given, when a value is
    malformed, or when it lies before 2006 or in the future.
    """
    given = [
        value for value in (create_date, create_timestamp) if value not in (None, "")
    ]
    if len(given) != 1:
        raise InvalidInputError(
            "give exactly one of create_date (YYYYMMDDTHHMMSSZ, UTC) and "
            "create_timestamp (epoch seconds); the other is derived from it"
        )
    if create_date not in (None, ""):
        try:
            moment = parse_create_date(str(create_date))
        except ValueError:
            raise InvalidInputError(
                f"create_date {create_date!r} is not in the form YYYYMMDDTHHMMSSZ "
                "(UTC), e.g. 20261204T154143Z"
            ) from None
    else:
        # Pulumi passes numbers as floats: 1796399915 arrives as 1796399915.0.
        if isinstance(create_timestamp, float) and create_timestamp.is_integer():
            create_timestamp = int(create_timestamp)
        text = str(create_timestamp)
        if not re.fullmatch(r"[0-9]{1,12}", text):
            raise InvalidInputError(
                f"create_timestamp {create_timestamp!r} is not whole epoch seconds, "
                "e.g. 1796399915 (milliseconds are too many digits)"
            )
        moment = dt.datetime.fromtimestamp(int(text), dt.timezone.utc)

    latest = dt.datetime.now(dt.timezone.utc) + _LATEST_OFFSET
    if not _EARLIEST <= moment <= latest:
        raise InvalidInputError(
            f"creation time {format_create_date(moment)} is before 2006 or in the "
            "future; check the value"
        )
    return moment


def build_tags(
    source_image: str,
    source_region: str,
    *,
    source_instance: str | None = None,
    create_date: str | None = None,
    create_timestamp: int | str | None = None,
) -> dict[str, str]:
    """Validate the lineage inputs and return the five (or four) tags."""
    validation.require_valid(validation.check_image_id("source_image", source_image))
    validation.require_valid(validation.check_region("source_region", source_region))
    _check_instance(source_instance)
    moment = resolve_instant(create_date, create_timestamp)
    return lineage_tags(source_image, source_region, moment, source_instance)


def _check_instance(source_instance: str | None) -> None:
    if source_instance is not None and not str(source_instance).startswith("i-"):
        raise InvalidInputError(
            f"source_instance {source_instance!r} is not an instance id; an instance "
            "id starts with 'i-'"
        )


def tag_image(
    image_id: str,
    region: str | None,
    tags: Mapping[str, str],
    *,
    profile: str | None = None,
    include_snapshots: bool = True,
) -> list[str]:
    """Write `tags` on the image and, by default, its snapshots.

    Returns the ids of the tagged resources. Raises ImageNotFoundError
    when the image does not exist in the region.
    """
    validation.require_valid(validation.check_image_id("image_id", image_id))
    region = aws.resolve_region(region)
    client = aws.ec2_client(region, profile)
    image = images.describe_image(client, image_id)
    if image is None:
        raise ImageNotFoundError(
            f"image {image_id} was not found in region {region}; check the id and "
            "the region"
        )
    resources = [image_id]
    if include_snapshots:
        resources += images.snapshot_ids(image)
    images.write_tags(client, resources, tags)
    return resources


class LineageTagsProvider(pulumi.dynamic.ResourceProvider):
    """Write and remove the lineage tags of an image that someone else made."""

    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if any(is_unknown(value) for value in news.values()):
            # Checked again at apply time, when every value is known.
            return CheckResult({**news, "lineage_tags": {}}, failures)

        # Each rule reports under the input it is about.
        steps = {
            "source_image": lambda: validation.require_valid(
                validation.check_image_id("source_image", news.get("source_image"))
            ),
            # Without source_region the parent is in `region`, checked below.
            "source_region": lambda: validation.require_valid(
                validation.check_region("source_region", news.get("source_region"))
                if news.get("source_region")
                else None
            ),
            "create_date" if news.get("create_date") else "create_timestamp": lambda: (
                resolve_instant(news.get("create_date"), news.get("create_timestamp"))
            ),
            "source_instance": lambda: _check_instance(news.get("source_instance")),
        }
        for field, step in steps.items():
            try:
                step()
            except InvalidInputError as error:
                failures.append(CheckFailure(field, str(error)))
        problem = validation.check_image_id("image_id", news.get("image_id"))
        if problem:
            failures.append(CheckFailure("image_id", problem))
        problem = validation.check_region("region", news.get("region"))
        if problem:
            failures.append(CheckFailure("region", problem))
        if news.get("source_image") and news.get("source_image") == news.get(
            "image_id"
        ):
            failures.append(
                CheckFailure(
                    "source_image",
                    f"source_image {news['source_image']} is the image itself; name "
                    "the image it was made from",
                )
            )

        tags = {}
        if not failures:
            tags = build_tags(
                news["source_image"],
                news.get("source_region") or news["region"],
                source_instance=news.get("source_instance"),
                create_date=news.get("create_date"),
                create_timestamp=news.get("create_timestamp"),
            )
        inputs = dict(news)
        inputs["lineage_tags"] = tags
        return CheckResult(inputs, failures)

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> DiffResult:
        replaces = [
            key for key in ("image_id", "region") if _olds.get(key) != _news.get(key)
        ]
        changed = _olds.get("lineage_tags") != _news.get("lineage_tags")
        return DiffResult(changes=bool(replaces) or changed, replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._write(props)
        return CreateResult(f"{props['region']}/{props['image_id']}", dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = aws.ec2_client(props["region"], props.get("profile"))
        image = images.describe_image(client, props["image_id"])
        if image is None:
            return ReadResult(None, {})
        _user, live = images.split_tags(image.get("Tags"))
        return ReadResult(id_, {**props, "lineage_tags": live})

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> Any:
        self._write(_news)
        # A lineage tag that is no longer given (source_instance) goes away.
        dropped = sorted(
            set(_olds.get("lineage_tags") or {}) - set(_news["lineage_tags"])
        )
        if dropped:
            client = aws.ec2_client(_news["region"], _news.get("profile"))
            image = images.describe_image(client, _news["image_id"]) or {}
            resources = [_news["image_id"], *images.snapshot_ids(image)]
            client.delete_tags(
                Resources=resources, Tags=[{"Key": key} for key in dropped]
            )
        return pulumi.dynamic.UpdateResult(dict(_news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        client = aws.ec2_client(_props["region"], _props.get("profile"))
        image = images.describe_image(client, _props["image_id"])
        if image is None:
            return
        # Another LineageTags may have taken the image over (a rename or a
        # swap creates the new resource first); its tags stay.
        owner = tags_to_dict(image.get("Tags")).get(OWNER_TAG)
        if owner != _props.get("resource_key"):
            return
        resources = [_props["image_id"], *images.snapshot_ids(image)]
        client.delete_tags(
            Resources=resources,
            Tags=[{"Key": key} for key in (*LINEAGE_TAG_KEYS, OWNER_TAG)],
        )

    @staticmethod
    def _write(props: dict[str, Any]) -> None:
        tags = {**props["lineage_tags"], OWNER_TAG: props["resource_key"]}
        tag_image(
            props["image_id"], props["region"], tags, profile=props.get("profile")
        )


class LineageTags(pulumi.dynamic.Resource, module="amitools", name="LineageTags"):
    """LineageTags writes the amitools lineage tags on an existing image.

    Use it for images made outside this package (by Packer, the console or
    amitools' create-image) so that lineage queries find them. Give exactly
    one of `create_date` and `create_timestamp`. Destroy removes the lineage
    tags again; the image itself is never touched.

    Example::

        amitools.LineageTags(
            "app-image",
            image_id="ami-0123456789abcdef0",
            source_image=base.image_id,
            source_instance="i-0abc1234def567890",
            create_timestamp=1796399915,
        )
    """

    lineage_tags: pulumi.Output[dict[str, str]]
    """The lineage tags written on the image and its snapshots."""

    def __init__(
        self,
        resource_name: str,
        *,
        image_id: pulumi.Input[str],
        source_image: pulumi.Input[str],
        region: pulumi.Input[str] | None = None,
        source_region: pulumi.Input[str] | None = None,
        source_instance: pulumi.Input[str] | None = None,
        create_date: pulumi.Input[str] | None = None,
        create_timestamp: pulumi.Input[int] | None = None,
        profile: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "image_id": image_id,
            "region": region if region is not None else aws.resolve_region(None),
            "source_image": source_image,
            "source_region": source_region,
            "source_instance": source_instance,
            "create_date": create_date,
            "create_timestamp": create_timestamp,
            "profile": profile if profile is not None else aws.default_profile(),
            "resource_key": "/".join(
                [pulumi.get_project(), pulumi.get_stack(), "LineageTags", resource_name]
            ),
            "lineage_tags": None,
        }
        super().__init__(LineageTagsProvider(), resource_name, props, opts)

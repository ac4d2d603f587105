"""The amitools lineage tags: names, formats and helpers.

Every image made by amitools carries tags that name its parent. `source_image`
and `source_region` point at the parent image. `source_instance` is set only
when the image was made from an instance (CreateImage), never for copies.
`create_date` (UTC, `YYYYMMDDTHHMMSSZ`) and `create_timestamp` (epoch seconds)
record one instant, the moment the image was made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

SOURCE_IMAGE = "source_image"
SOURCE_INSTANCE = "source_instance"
SOURCE_REGION = "source_region"
CREATE_DATE = "create_date"
CREATE_TIMESTAMP = "create_timestamp"

LINEAGE_TAG_KEYS = (
    SOURCE_IMAGE,
    SOURCE_INSTANCE,
    SOURCE_REGION,
    CREATE_DATE,
    CREATE_TIMESTAMP,
)

CREATE_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

# Tag that marks a copy with the token of the resource that started it. While
# the copy is in progress, its value is COPYING_PREFIX + token: a create that
# was interrupted after CopyImage finds its image by that value. A finished
# copy carries the bare token, so a replacement never takes it over.
TOKEN_TAG = "amitools-pulumi:copy-token"
COPYING_PREFIX = "copying:"


def format_create_date(moment: dt.datetime) -> str:
    """Format an aware datetime as a `create_date` tag value, in UTC."""
    return moment.astimezone(dt.timezone.utc).strftime(CREATE_DATE_FORMAT)


def parse_create_date(value: str) -> dt.datetime:
    """Parse a `create_date` tag value into an aware UTC datetime."""
    parsed = dt.datetime.strptime(value, CREATE_DATE_FORMAT)
    return parsed.replace(tzinfo=dt.timezone.utc)


def lineage_tags(
    source_image: str,
    source_region: str,
    created: dt.datetime,
    source_instance: str | None = None,
) -> dict[str, str]:
    """Build the lineage tags of an image made at `created` from a parent.

    `created` is truncated to whole seconds so that both date tags name the
    same instant.
    """
    created = created.astimezone(dt.timezone.utc).replace(microsecond=0)
    tags = {
        SOURCE_IMAGE: source_image,
        SOURCE_REGION: source_region,
        CREATE_DATE: format_create_date(created),
        CREATE_TIMESTAMP: str(int(created.timestamp())),
    }
    if source_instance:
        tags[SOURCE_INSTANCE] = source_instance
    return tags


def tags_to_dict(aws_tags: list[Mapping[str, str]] | None) -> dict[str, str]:
    """Turn EC2's `[{"Key": k, "Value": v}]` list into a plain dict."""
    return {tag["Key"]: tag.get("Value", "") for tag in aws_tags or []}


def dict_to_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Turn a plain dict into EC2's tag list, sorted by key."""
    return [{"Key": key, "Value": tags[key]} for key in sorted(tags)]

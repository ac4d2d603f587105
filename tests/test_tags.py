"""Lineage tag formats."""

from __future__ import annotations

import datetime as dt

from amitools_pulumi.tags import (
    dict_to_tags,
    format_create_date,
    lineage_tags,
    parse_create_date,
    tags_to_dict,
)

MOMENT = dt.datetime(2026, 12, 4, 15, 41, 43, 123456, tzinfo=dt.timezone.utc)


def test_create_date_format_is_compact_utc() -> None:
    assert format_create_date(MOMENT) == "20261204T154143Z"


def test_create_date_converts_other_zones_to_utc() -> None:
    berlin = MOMENT.astimezone(dt.timezone(dt.timedelta(hours=1)))

    assert format_create_date(berlin) == "20261204T154143Z"


def test_create_date_round_trips() -> None:
    assert parse_create_date("20261204T154143Z") == MOMENT.replace(microsecond=0)


def test_lineage_tags_of_a_copy() -> None:
    tags = lineage_tags("ami-12345678", "us-east-1", MOMENT)

    assert tags == {
        "source_image": "ami-12345678",
        "source_region": "us-east-1",
        "create_date": "20261204T154143Z",
        "create_timestamp": str(int(MOMENT.replace(microsecond=0).timestamp())),
    }


def test_lineage_timestamp_is_the_create_date_instant() -> None:
    tags = lineage_tags("ami-12345678", "us-east-1", MOMENT)

    instant = dt.datetime.fromtimestamp(int(tags["create_timestamp"]), dt.timezone.utc)

    assert format_create_date(instant) == tags["create_date"]


def test_lineage_tags_of_an_image_made_from_an_instance() -> None:
    tags = lineage_tags("ami-12345678", "eu-west-1", MOMENT, source_instance="i-0abc")

    assert tags["source_instance"] == "i-0abc"


def test_tag_list_round_trips() -> None:
    tags = {"b": "2", "a": "1"}

    assert dict_to_tags(tags) == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
    ]
    assert tags_to_dict(dict_to_tags(tags)) == tags

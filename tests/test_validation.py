"""Input rules: each bad value is named in the message with its fix."""

from __future__ import annotations

import pytest

from amitools_pulumi import validation


@pytest.mark.parametrize("image_id", ["ami-12345678", "ami-0123456789abcdef0"])
def test_image_id_accepts_short_and_long_ids(image_id: str) -> None:
    assert validation.check_image_id("source_ami_id", image_id) is None


@pytest.mark.parametrize(
    "image_id",
    ["", "ami-", "ami-xyz", "AMI-12345678", "snap-12345678", "ami-0123456789ABCDEF0"],
)
def test_image_id_rejects_malformed_ids(image_id: str) -> None:
    problem = validation.check_image_id("source_ami_id", image_id)

    assert problem is not None
    assert problem.startswith("source_ami_id")


def test_image_id_rejects_missing_id() -> None:
    assert "is missing" in validation.check_image_id("source_ami_id", None)


def test_region_accepts_known_region() -> None:
    assert validation.check_region("region", "eu-west-1") is None


def test_region_rejects_unknown_region() -> None:
    problem = validation.check_region("region", "us-nowhere-1")

    assert "'us-nowhere-1' is not a known AWS region" in problem


@pytest.mark.parametrize("name", ["ab", "x" * 129, "bad|name", "tab\tname"])
def test_image_name_rules(name: str) -> None:
    assert "is not a valid image name" in validation.check_image_name("name", name)


def test_image_name_accepts_every_allowed_character() -> None:
    assert validation.check_image_name("name", "Az09 ()[]./-'@_") is None


def test_description_longer_than_255_is_rejected() -> None:
    problem = validation.check_description("description", "d" * 256)

    assert "too long (256 characters)" in problem


def test_tags_reject_reserved_prefix() -> None:
    problems = validation.check_tags("tags", {"aws:owner": "me"})

    assert problems == [
        "tags key 'aws:owner' uses the reserved 'aws:' prefix; choose a key without it"
    ]


def test_tags_reject_lineage_keys() -> None:
    problems = validation.check_tags("tags", {"source_image": "ami-12345678"})

    assert "is a lineage tag that the resource manages" in problems[0]


def test_tags_reject_long_values() -> None:
    problems = validation.check_tags("tags", {"team": "v" * 257})

    assert "at most 256 characters" in problems[0]


def test_tags_reject_too_many() -> None:
    problems = validation.check_tags("tags", {f"k{i}": "v" for i in range(46)})

    assert "has 46 tags" in problems[0]

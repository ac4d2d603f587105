"""Input rules shared by the resources, the provider's `check` and the queries.

Each rule returns a message that names the input, the bad value, the rule and
the fix, or None when the value is valid.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from amitools_pulumi.errors import InvalidInputError
from amitools_pulumi.naming import MAX_PREFIX_LENGTH
from amitools_pulumi.tags import LINEAGE_TAG_KEYS, TOKEN_TAG

IMAGE_ID_PATTERN = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")

# AWS's AMI name rule: 3 to 128 characters from this set.
IMAGE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")
NAME_PREFIX_PATTERN = re.compile(
    rf"^[A-Za-z0-9()\[\] ./\-'@_]{{1,{MAX_PREFIX_LENGTH}}}$"
)

# A KMS key id, key ARN, alias name or alias ARN, as CopyImage accepts them.
KMS_KEY_PATTERN = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|mrk-[0-9a-f]{32}"
    r"|alias/[A-Za-z0-9/_-]{1,250}"
    r"|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+))$"
)

MAX_DESCRIPTION_LENGTH = 255
MIN_WAIT_TIMEOUT_MINUTES = 1
MAX_WAIT_TIMEOUT_MINUTES = 48 * 60
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
# EC2 allows 50 tags per resource. A copy carries 4 lineage tags and a copy token.
MAX_USER_TAGS = 45


@functools.cache
def known_regions() -> frozenset[str]:
    """Return every EC2 region in botocore's bundled endpoint data, all partitions."""
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


def check_image_id(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return f"{field} is missing; set it to the id of an existing image (ami-...)"
    if not isinstance(value, str) or not IMAGE_ID_PATTERN.match(value):
        return (
            f"{field} {value!r} is not a valid image id; an image id is 'ami-' "
            "followed by 8 or 17 lowercase hex digits, e.g. ami-0abcdef1234567890"
        )
    return None


def check_region(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return (
            f"{field} is missing; set it, or set 'aws:region' in the stack config "
            "or AWS_DEFAULT_REGION in the environment"
        )
    if not isinstance(value, str) or value not in known_regions():
        return (
            f"{field} {value!r} is not a known AWS region; use a region code such "
            "as us-east-1 or eu-west-1 (see 'aws ec2 describe-regions')"
        )
    return None


def check_image_name(field: str, value: Any) -> str | None:
    if not isinstance(value, str) or not IMAGE_NAME_PATTERN.match(value):
        return (
            f"{field} {value!r} is not a valid image name; AWS requires 3 to 128 "
            "characters from letters, digits, spaces and ( ) [ ] . / - ' @ _"
        )
    return None


def check_name_prefix(field: str, value: Any) -> str | None:
    if not isinstance(value, str) or not NAME_PREFIX_PATTERN.match(value):
        return (
            f"{field} {value!r} is not a valid name prefix; use 1 to "
            f"{MAX_PREFIX_LENGTH} characters from letters, digits, spaces and "
            "( ) [ ] . / - ' @ _ so that the generated name fits AWS's 128"
        )
    return None


def check_description(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{field} {value!r} is not a string; pass the description as text"
    if len(value) > MAX_DESCRIPTION_LENGTH:
        return (
            f"{field} is too long ({len(value)} characters); AWS allows at most "
            f"{MAX_DESCRIPTION_LENGTH}, so shorten it"
        )
    return None


def check_kms_key(field: str, value: Any, encrypted: Any) -> str | None:
    if value is None or value == "":
        return None
    if encrypted is not True:
        return (
            f"{field} {value!r} is set but encrypted is not true; set encrypted=True "
            "to encrypt the copy with that key, or remove kms_key_id"
        )
    if not isinstance(value, str) or not KMS_KEY_PATTERN.match(value):
        return (
            f"{field} {value!r} is not a KMS key id, key ARN, alias name "
            "(alias/...) or alias ARN"
        )
    return None


def check_bool(field: str, value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return f"{field} {value!r} is not a boolean; use True or False"


def check_wait_timeout(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (
            f"{field} {value!r} is not a number; give whole minutes from "
            f"{MIN_WAIT_TIMEOUT_MINUTES} to {MAX_WAIT_TIMEOUT_MINUTES} (48 hours)"
        )
    if not MIN_WAIT_TIMEOUT_MINUTES <= value <= MAX_WAIT_TIMEOUT_MINUTES:
        # Pulumi passes numbers as floats: 0.0 reads better as 0.
        return (
            f"{field} {value:g} is out of range; give whole minutes from "
            f"{MIN_WAIT_TIMEOUT_MINUTES} to {MAX_WAIT_TIMEOUT_MINUTES} (48 hours)"
        )
    return None


def check_tags(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [f"{field} must be a mapping of tag keys to string values"]
    problems = []
    if len(value) > MAX_USER_TAGS:
        problems.append(
            f"{field} has {len(value)} tags; at most {MAX_USER_TAGS} fit beside "
            "the lineage tags in EC2's limit of 50 per image"
        )
    for key, tag_value in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY_LENGTH:
            problems.append(
                f"{field} key {key!r} is invalid; tag keys are 1 to "
                f"{MAX_TAG_KEY_LENGTH} characters"
            )
        elif key.lower().startswith("aws:"):
            problems.append(
                f"{field} key {key!r} uses the reserved 'aws:' prefix; "
                "choose a key without it"
            )
        elif key in LINEAGE_TAG_KEYS or key == TOKEN_TAG:
            problems.append(
                f"{field} key {key!r} is a lineage tag that the resource manages; "
                "remove it from tags"
            )
        if not isinstance(tag_value, str) or len(tag_value) > MAX_TAG_VALUE_LENGTH:
            problems.append(
                f"{field} value for {key!r} is invalid; tag values are strings of "
                f"at most {MAX_TAG_VALUE_LENGTH} characters"
            )
    return problems


def require_valid(problem: str | None) -> None:
    """Raise InvalidInputError when a rule returned a problem."""
    if problem is not None:
        raise InvalidInputError(problem)

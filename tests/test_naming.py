"""Generated image names."""

from __future__ import annotations

import re
import time

from amitools_pulumi.naming import MAX_PREFIX_LENGTH, generate_image_name
from amitools_pulumi.validation import check_image_name


def test_generated_name_has_prefix_epoch_and_number() -> None:
    before = int(time.time())

    name = generate_image_name("base")

    prefix, epoch, number = name.split("-")
    assert prefix == "base"
    assert before <= int(epoch) <= int(time.time())
    assert re.fullmatch(r"\d+", number)


def test_generated_names_differ() -> None:
    assert generate_image_name() != generate_image_name()


def test_longest_prefix_still_gives_a_valid_name() -> None:
    name = generate_image_name("p" * MAX_PREFIX_LENGTH)

    assert check_image_name("name", name) is None

"""Pulumi resources that copy AWS machine images and record their lineage."""

from __future__ import annotations

import logging

from amitools_pulumi.cloned import ClonedAmi, ClonedAmiArgs
from amitools_pulumi.copied import CopiedAmi, CopiedAmiArgs
from amitools_pulumi.errors import (
    AmitoolsError,
    CopyFailedError,
    ImageNotFoundError,
    InvalidInputError,
    RegionNotFoundError,
    SourceImageNotFoundError,
)
from amitools_pulumi.lineage import Lineage, LineageNode, find_ancestors, find_children
from amitools_pulumi.queries import Ancestors, Children
from amitools_pulumi.tagging import LineageTags, tag_image
from amitools_pulumi.tags import LINEAGE_TAG_KEYS, lineage_tags

__all__ = [
    "LINEAGE_TAG_KEYS",
    "AmitoolsError",
    "Ancestors",
    "Children",
    "ClonedAmi",
    "ClonedAmiArgs",
    "CopiedAmi",
    "CopiedAmiArgs",
    "CopyFailedError",
    "ImageNotFoundError",
    "InvalidInputError",
    "Lineage",
    "LineageNode",
    "LineageTags",
    "RegionNotFoundError",
    "SourceImageNotFoundError",
    "find_ancestors",
    "find_children",
    "lineage_tags",
    "tag_image",
]

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

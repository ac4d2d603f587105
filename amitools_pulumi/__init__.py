"""Pulumi resources that copy AWS machine images and record their lineage."""

from __future__ import annotations

import logging

from amitools_pulumi.cloned import ClonedAmi, ClonedAmiArgs
from amitools_pulumi.copied import CopiedAmi, CopiedAmiArgs
from amitools_pulumi.errors import (
    AmitoolsError,
    CopyFailedError,
    InvalidInputError,
    RegionNotFoundError,
    SourceImageNotFoundError,
)
from amitools_pulumi.lineage import Children, LineageNode, find_children
from amitools_pulumi.tags import LINEAGE_TAG_KEYS, lineage_tags

__all__ = [
    "LINEAGE_TAG_KEYS",
    "AmitoolsError",
    "Children",
    "ClonedAmi",
    "ClonedAmiArgs",
    "CopiedAmi",
    "CopiedAmiArgs",
    "CopyFailedError",
    "InvalidInputError",
    "LineageNode",
    "RegionNotFoundError",
    "SourceImageNotFoundError",
    "find_children",
    "lineage_tags",
]

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

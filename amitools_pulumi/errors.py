"""Exceptions raised by amitools_pulumi."""

from __future__ import annotations

import pulumi


class AmitoolsError(pulumi.RunError):
    """Base class of every error that amitools_pulumi raises on purpose.

    It derives from `pulumi.RunError`, so a Pulumi program that raises it stops
    with its message alone instead of a traceback.
    """


class InvalidInputError(AmitoolsError, ValueError):
    """An input value breaks a rule; the message names the input, value and fix."""


class RegionNotFoundError(AmitoolsError):
    """No AWS region was given and none could be found in config or environment."""


class ImageNotFoundError(AmitoolsError):
    """An image does not exist in the region where it was looked for."""


class SourceImageNotFoundError(ImageNotFoundError):
    """The source image of a copy does not exist in its region."""


class CopyFailedError(AmitoolsError):
    """CopyImage started, but the new image did not become available."""


class CopyTimeoutError(CopyFailedError):
    """The new image was not available within the wait timeout."""


class DescendantsExistError(AmitoolsError):
    """An image cannot be deleted because images made from it still exist."""


class MissingLineageTagsError(AmitoolsError):
    """An image to adopt carries no amitools lineage tags."""

"""Waiting for a new image to become available, with growing poll delays.

botocore's `image_available` waiter polls at a fixed delay and fails at once on
`InvalidAMIID.NotFound`, which real EC2 returns for a while right after
CopyImage. This loop tolerates that window, grows its delay from 5 s to 150 s
(after an immediate first poll, 8 more cover a 10-minute copy), stops at the
first failed state with EC2's state reason, and reports snapshot progress
through a rate-limited reporter.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.exceptions

from amitools_pulumi.errors import CopyFailedError, CopyTimeoutError
from amitools_pulumi.images import describe_image, snapshot_ids
from amitools_pulumi.progress import RateLimitedReporter

logger = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 5.0
DELAY_FACTOR = 2.0
# With the copy-token lookup, a create pending 10 minutes makes 10
# DescribeImages; a finished copy is noticed at most 150 s late.
MAX_DELAY_SECONDS = 150.0

# How long after CopyImage an image may still be unknown to DescribeImages.
NOT_FOUND_GRACE_SECONDS = 300.0

FAILED_STATES = frozenset({"failed", "error", "invalid", "deregistered", "disabled"})


def poll_delays(
    first: float = FIRST_DELAY_SECONDS,
    factor: float = DELAY_FACTOR,
    maximum: float = MAX_DELAY_SECONDS,
) -> Iterator[float]:
    """Yield poll delays: `first`, then growing by `factor` up to `maximum`."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, maximum)


def snapshot_progress(client: Any, image: dict[str, Any]) -> str | None:
    """Return the copy's snapshot progress, e.g. `45%`, or None when unknown."""
    ids = snapshot_ids(image)
    if not ids:
        return None
    try:
        snapshots = client.describe_snapshots(SnapshotIds=ids)["Snapshots"]
    except botocore.exceptions.ClientError as error:
        logger.debug("no snapshot progress for %s: %s", image.get("ImageId"), error)
        return None
    values = [snapshot.get("Progress", "") for snapshot in snapshots]
    return ", ".join(value for value in values if value) or None


def wait_until_available(
    client: Any,
    image_id: str,
    *,
    region: str,
    timeout_seconds: float,
    reporter: RateLimitedReporter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_found: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll `image_id` until it is available and return its record.

    `on_found` is called with the first record EC2 returns, before its state
    is looked at. Raises CopyFailedError when the image ends in a failed
    state (with EC2's state reason) or stays unknown past the grace period,
    and CopyTimeoutError when it is not available after `timeout_seconds`.
    """
    reporter = reporter or RateLimitedReporter()
    started = clock()
    deadline = started + timeout_seconds
    delays = poll_delays()
    state = "unknown"
    found = False

    while True:
        image = describe_image(client, image_id)
        if image is not None and not found:
            found = True
            if on_found is not None:
                on_found(image)
        if image is None:
            if clock() - started > NOT_FOUND_GRACE_SECONDS:
                raise CopyFailedError(
                    f"image {image_id} in {region} is still not found "
                    f"{NOT_FOUND_GRACE_SECONDS:.0f} s after CopyImage; check the "
                    "copy in the EC2 console"
                )
        else:
            state = image.get("State", "unknown")
            if state == "available":
                return image
            if state in FAILED_STATES:
                reason = (
                    image.get("StateReason", {}).get("Message") or "no reason given"
                )
                raise CopyFailedError(
                    f"image {image_id} in {region} ended in state {state}: {reason}"
                )
            if reporter.is_due():
                progress = snapshot_progress(client, image) or "unknown"
                reporter.report(
                    f"{image_id} in {region}: {state}, snapshot progress {progress}"
                )

        delay = next(delays)
        if clock() + delay > deadline:
            raise CopyTimeoutError(
                f"image {image_id} in {region} is not available after "
                f"{timeout_seconds / 60:.0f} minutes (state {state}); raise "
                "wait_timeout_minutes, or check the copy in the EC2 console"
            )
        sleep(delay)

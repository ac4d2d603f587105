"""The descendant check that runs before an image copy is deleted.

The check lists the account's images in every enabled region. A destroy
deletes many copies at once, and each check used to make that listing of its
own. Concurrent checks now share one: a check waits for the next listing
that starts after the check was requested, so its result is as recent as a
listing of its own would be. An image deleted before the check was requested
is therefore never reported as a descendant.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from amitools_pulumi import lineage

T = TypeVar("T")

logger = logging.getLogger(__name__)


class SharedListing(Generic[T]):
    """Run `fetch` for every caller of `get`, sharing runs between callers.

    A run starts only after the previous one has ended. Callers that arrive
    while a run is waiting to start join it; callers that arrive after it
    started wait for the next one.
    """

    def __init__(self, fetch: Callable[[], T]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self._waiting: Future[T] | None = None
        self.waiting_callers = 0
        self.runs = 0

    def get(self) -> T:
        with self._lock:
            starts = self._waiting is None
            if starts:
                self._waiting = Future()
            self.waiting_callers += 1
            result = self._waiting
        if starts:
            with self._running:
                with self._lock:
                    self._waiting = None
                    sharing, self.waiting_callers = self.waiting_callers, 0
                self.runs += 1
                logger.debug("one image listing serves %d descendant checks", sharing)
                try:
                    result.set_result(self._fetch())
                except BaseException as error:
                    result.set_exception(error)
        return result.result()


_listings: dict[tuple[str, str | None], SharedListing[lineage.LineageIndex]] = {}
_listings_lock = threading.Lock()


def children_of(
    image_id: str, region: str, profile: str | None = None
) -> list[lineage.LineageNode]:
    """Return the images made directly from `image_id`, in every enabled region."""
    key = (region, profile)
    with _listings_lock:
        listing = _listings.get(key)
        if listing is None:
            listing = _listings[key] = SharedListing(
                lambda: lineage.build_index(
                    lineage.enabled_regions(region, profile), profile
                )
            )
    return lineage.children_in(listing.get(), image_id, region, max_depth=1)

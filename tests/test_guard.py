"""The shared listing behind the descendant check of delete."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from amitools_pulumi.guard import SharedListing


class BlockingFetch:
    """A fetch that counts its runs and holds each run until released."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.runs = 0

    def __call__(self) -> int:
        self.runs += 1
        run = self.runs
        self.started.release()
        self.release.acquire()
        return run


def call_in_thread(listing: SharedListing[Any], results: dict[str, Any], name: str):
    def target() -> None:
        try:
            results[name] = listing.get()
        except Exception as error:  # noqa: BLE001
            results[name] = error

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def wait_for_callers(listing: SharedListing[Any], count: int) -> None:
    """Wait until `count` callers wait for the listing's next run."""
    deadline = time.monotonic() + 10
    while listing.waiting_callers < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{count} callers never waited for the next run")
        time.sleep(0.01)


def test_callers_during_a_run_share_the_next_run() -> None:
    fetch = BlockingFetch()
    listing = SharedListing(fetch)
    results: dict[str, Any] = {}
    first = call_in_thread(listing, results, "first")
    assert fetch.started.acquire(timeout=10)

    later = [call_in_thread(listing, results, name) for name in ("second", "third")]
    wait_for_callers(listing, 2)
    fetch.release.release()
    assert fetch.started.acquire(timeout=10)
    fetch.release.release()
    for thread in (first, *later):
        thread.join(timeout=10)

    assert results["first"] == 1
    assert results["second"] == 2
    assert results["third"] == 2
    assert listing.runs == 2


def test_listing_single_caller_runs_fetch() -> None:
    listing = SharedListing(lambda: "listed")

    assert listing.get() == "listed"
    assert listing.get() == "listed"
    assert listing.runs == 2


def test_fetch_error_reaches_every_caller_of_the_run() -> None:
    fetch = BlockingFetch()
    calls = {"count": 0}

    def failing() -> int:
        calls["count"] += 1
        if calls["count"] == 1:
            return fetch()
        raise RuntimeError("listing failed")

    listing = SharedListing(failing)
    results: dict[str, Any] = {}
    first = call_in_thread(listing, results, "first")
    assert fetch.started.acquire(timeout=10)
    later = [call_in_thread(listing, results, name) for name in ("second", "third")]
    wait_for_callers(listing, 2)
    fetch.release.release()
    for thread in (first, *later):
        thread.join(timeout=10)

    assert results["first"] == 1
    assert str(results["second"]) == "listing failed"
    assert str(results["third"]) == "listing failed"

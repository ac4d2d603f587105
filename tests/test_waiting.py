"""wait_until_available against the moto server, with EC2's states emulated.

moto makes every copy `available` at once and never answers NotFound for an
image it knows. Real EC2 answers `InvalidAMIID.NotFound` for a while after
CopyImage, keeps a copy `pending` for minutes, and can end it `failed`. The
tests add that behaviour with botocore event hooks on the client, and replace
the clock and sleep so that no test waits for real.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from amitools_pulumi.errors import CopyFailedError, CopyTimeoutError
from amitools_pulumi.progress import RateLimitedReporter
from amitools_pulumi.waiting import poll_delays, wait_until_available
from tests.conftest import HOME_REGION


class FakeTime:
    """A clock that advances only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def client(moto_endpoint: str) -> Any:
    """A client of its own, so that the hooks stay out of other tests."""
    return boto3.client("ec2", region_name=HOME_REGION, endpoint_url=moto_endpoint)


@pytest.fixture
def copy_id(client: Any, foundation_image_id: str) -> Iterator[str]:
    image_id = client.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="wait-test"
    )["ImageId"]
    yield image_id
    client.deregister_image(ImageId=image_id)


def answer_states(client: Any, states: list[str | None], reason: str = "") -> list[str]:
    """Make DescribeImages report `states` in turn; None means NotFound.

    Returns the list of states actually served, for assertions.
    """
    served: list[str] = []
    sequence = iter(states)

    def before(params: dict[str, Any], **_: Any) -> None:
        if "ImageIds" not in params:
            return
        state = next(sequence, states[-1])
        served.append(str(state))
        if state is None:
            raise ClientError(
                {"Error": {"Code": "InvalidAMIID.NotFound", "Message": "not found"}},
                "DescribeImages",
            )

    def after(parsed: dict[str, Any], **_: Any) -> None:
        if not served or served[-1] == "None":
            return
        for image in parsed.get("Images", []):
            image["State"] = served[-1]
            if reason:
                image["StateReason"] = {"Code": "Client.Error", "Message": reason}

    client.meta.events.register("before-parameter-build.ec2.DescribeImages", before)
    client.meta.events.register("after-call.ec2.DescribeImages", after)
    return served


def test_poll_delays_grow_to_the_maximum() -> None:
    delays = list(itertools.islice(poll_delays(), 8))

    assert delays == [5.0, 10.0, 20.0, 40.0, 80.0, 150.0, 150.0, 150.0]


def test_ten_minutes_take_at_most_nine_polls() -> None:
    # With the copy-token lookup before it, a create then makes at most 10.
    elapsed = itertools.accumulate(poll_delays())

    polls = next(count for count, total in enumerate(elapsed, start=2) if total >= 600)

    assert polls <= 9


def test_available_at_once_needs_no_sleep(client: Any, copy_id: str) -> None:
    fake = FakeTime()

    image = wait_until_available(
        client,
        copy_id,
        region=HOME_REGION,
        timeout_seconds=600,
        sleep=fake.sleep,
        clock=fake.clock,
    )

    assert image["ImageId"] == copy_id
    assert fake.sleeps == []


def test_not_found_window_is_tolerated(client: Any, copy_id: str) -> None:
    fake = FakeTime()
    served = answer_states(client, [None, None, "pending", "available"])

    image = wait_until_available(
        client,
        copy_id,
        region=HOME_REGION,
        timeout_seconds=600,
        sleep=fake.sleep,
        clock=fake.clock,
    )

    assert image["State"] == "available"
    assert served == ["None", "None", "pending", "available"]
    assert fake.sleeps == [5.0, 10.0, 20.0]


def test_on_found_runs_once_when_the_image_appears(client: Any, copy_id: str) -> None:
    fake = FakeTime()
    answer_states(client, [None, "pending", "pending", "available"])
    found: list[str] = []

    wait_until_available(
        client,
        copy_id,
        region=HOME_REGION,
        timeout_seconds=600,
        sleep=fake.sleep,
        clock=fake.clock,
        on_found=lambda image: found.append(image["State"]),
    )

    assert found == ["pending"]


def test_failed_copy_raises_with_the_state_reason(client: Any, copy_id: str) -> None:
    fake = FakeTime()
    answer_states(client, ["pending", "failed"], reason="snapshot copy failed")

    with pytest.raises(CopyFailedError) as raised:
        wait_until_available(
            client,
            copy_id,
            region=HOME_REGION,
            timeout_seconds=600,
            sleep=fake.sleep,
            clock=fake.clock,
        )

    assert copy_id in str(raised.value)
    assert "ended in state failed: snapshot copy failed" in str(raised.value)


def test_pending_past_the_timeout_raises(client: Any, copy_id: str) -> None:
    fake = FakeTime()
    answer_states(client, ["pending"])

    with pytest.raises(CopyTimeoutError, match="not available after 10 minutes"):
        wait_until_available(
            client,
            copy_id,
            region=HOME_REGION,
            timeout_seconds=600,
            sleep=fake.sleep,
            clock=fake.clock,
        )

    assert sum(fake.sleeps) <= 600


def test_image_never_found_raises(client: Any, copy_id: str) -> None:
    fake = FakeTime()
    answer_states(client, [None])

    with pytest.raises(CopyFailedError, match="still not found 300 s after CopyImage"):
        wait_until_available(
            client,
            copy_id,
            region=HOME_REGION,
            timeout_seconds=3600,
            sleep=fake.sleep,
            clock=fake.clock,
        )


def test_progress_is_reported_at_a_bounded_rate(
    client: Any, copy_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTime()
    answer_states(client, ["pending"] * 6 + ["available"])
    # Reports are rate-limited on real time; an hour's interval lets one through.
    reporter = RateLimitedReporter(interval=3600)

    with caplog.at_level("INFO", logger="amitools_pulumi.progress"):
        wait_until_available(
            client,
            copy_id,
            region=HOME_REGION,
            timeout_seconds=3600,
            reporter=reporter,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    messages = [record.getMessage() for record in caplog.records]

    assert len(messages) == 1
    assert messages[0] == f"{copy_id} in {HOME_REGION}: pending, snapshot progress 100%"

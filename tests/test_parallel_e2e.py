"""Copies of one stack wait for EC2 side by side, beyond Pulumi's 4 workers.

Pulumi's dynamic-provider server has 4 worker threads; the provider raises
that limit when it loads (AMITOOLS_PULUMI_PROVIDER_THREADS, default 32).
moto keeps every copy `pending` until the test releases them, so all
CopyImage calls are in flight at the same time only if the limit was raised.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.conftest import HOME_REGION, PROGRAMS
from tests.helpers import own_image_ids
from tests.moto_faults import CopyControl

pytestmark = pytest.mark.e2e

COUNT = 8


def copies_held_at_once(
    stack: Any, control: CopyControl, expected: int
) -> tuple[int, Any]:
    """Run `up` while moto keeps the copies pending; return how many were held.

    The count is taken once `expected` copies are held and each has been
    polled by the wait loop, which is seconds after the engine sent every
    create. The copies are then released, so `up` always finishes; fewer
    than `expected` copies are released after 120 s.
    """
    outcome: dict[str, Any] = {}

    def run_up() -> None:
        try:
            outcome["result"] = stack.up()
        except Exception as error:  # noqa: BLE001
            outcome["error"] = error

    def all_waiting() -> bool:
        copies = list(control.copies)
        return len(copies) >= expected and all(
            control.polls.get(image.id, 0) >= 2 for image in copies
        )

    thread = threading.Thread(target=run_up)
    thread.start()
    deadline = time.monotonic() + 120
    while not all_waiting() and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    held = len(control.copies)
    control.release()
    thread.join(timeout=300)
    if "error" in outcome:
        raise outcome["error"]
    return held, outcome.get("result")


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, COUNT), ({"AMITOOLS_PULUMI_PROVIDER_THREADS": "6"}, 6)],
    ids=["default-limit", "limit-from-variable"],
)
def test_copies_wait_side_by_side(
    make_stack: Any,
    ec2: Any,
    foundation_image_id: str,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    expected: int,
) -> None:
    control = CopyControl(monkeypatch)
    stack = make_stack(
        PROGRAMS / "many_clones",
        {"sourceAmiId": foundation_image_id, "count": str(COUNT)},
        env=env,
    )
    before = own_image_ids(ec2(HOME_REGION))

    held, result = copies_held_at_once(stack, control, expected)

    assert held == expected
    assert result.summary.resource_changes == {"create": COUNT + 1}
    assert len(own_image_ids(ec2(HOME_REGION)) - before) == COUNT

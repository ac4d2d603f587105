"""200 ClonedAmi resources in one stack: up creates all, destroy leaves none.

The test prints its wall times and the EC2 calls moto served, by action, so
that a run's log carries the numbers docs/RELIABILITY.md quotes.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from moto.ec2.responses import EC2Response

from tests.conftest import HOME_REGION, PROGRAMS
from tests.helpers import own_image_ids, snapshot_exists

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

COUNT = 200


@pytest.fixture
def ec2_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count the EC2 actions that moto's server handles, by action name."""
    calls: Counter[str] = Counter()
    original = EC2Response.call_action

    def counting(response: Any) -> Any:
        calls[response._get_action()] += 1
        return original(response)

    monkeypatch.setattr(EC2Response, "call_action", counting)
    return calls


def test_two_hundred_clones(
    make_stack: Any, ec2: Any, foundation_image_id: str, ec2_calls: Counter[str]
) -> None:
    stack = make_stack(
        PROGRAMS / "many_clones",
        {"sourceAmiId": foundation_image_id, "count": str(COUNT)},
    )
    before = own_image_ids(ec2(HOME_REGION))

    started = time.monotonic()
    result = stack.up()
    up_seconds = time.monotonic() - started
    image_ids = result.outputs["image_ids"].value
    up_calls = Counter(ec2_calls)
    snapshots = [
        r["outputs"]["snapshot_ids"][0]
        for r in stack.export_stack().deployment["resources"]
        if r["type"].endswith(":ClonedAmi")
    ]

    started = time.monotonic()
    stack.destroy()
    destroy_seconds = time.monotonic() - started
    destroy_calls = ec2_calls - up_calls
    print(f"\nup: {up_seconds:.1f} s, calls {dict(sorted(up_calls.items()))}")
    print(
        f"destroy: {destroy_seconds:.1f} s, calls {dict(sorted(destroy_calls.items()))}"
    )

    assert result.summary.resource_changes == {"create": COUNT + 1}
    assert len(set(image_ids)) == COUNT
    assert own_image_ids(ec2(HOME_REGION)) == before
    assert not any(
        snapshot_exists(ec2(HOME_REGION), snapshot) for snapshot in snapshots
    )

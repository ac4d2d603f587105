"""EC2 calls of one ClonedAmi create whose copy is pending 10 simulated minutes.

Part of bench/clone_bench.py. The provider's check and create run in this
process against moto. `wait_until_available` takes its `sleep` and `clock`
as keyword arguments with defaults, so replacing those defaults gives the
wait loop a simulated clock. The progress reporter reads `time.monotonic`
through its module, which is replaced for the run as well. moto makes the
copy `available` when the simulated clock reaches 600 s.
"""

from __future__ import annotations

import time
import types
from collections import Counter

from moto_emulation import (
    ClientCallCounter,
    CopyHold,
    SimulatedClock,
    count_mutating,
    is_mutating,
)

SIMULATED_COPY_SECONDS = 600.0
MAX_DESCRIBE_IMAGES = 10


def run_simulated_create(source_id: str, region: str) -> None:
    """Run check and create of one clone, then print their calls."""
    from amitools_pulumi import aws, progress, waiting
    from amitools_pulumi.provider import ImageCopyProvider

    defaults = waiting.wait_until_available.__kwdefaults__ or {}
    if not {"sleep", "clock"} <= set(defaults):
        raise SystemExit(
            "amitools_pulumi.waiting.wait_until_available has no keyword "
            "arguments `sleep` and `clock` any more; update bench/create_calls.py"
        )
    clock = SimulatedClock()
    client = aws.ec2_client(region)
    counter = ClientCallCounter()
    saved_defaults = dict(defaults)
    saved_progress_time = progress.time
    provider = ImageCopyProvider()
    news = {
        "source_ami_id": source_id,
        "source_region": region,
        "region": region,
        "resource_key": "clone-bench/calls/ClonedAmi/simulated",
    }

    counter.attach(client)
    defaults.update(sleep=clock.sleep, clock=clock.time)
    # The reporter sends snapshot progress when 30 s have passed since its
    # last message. On the simulated clock it does so as often as it would
    # in a real 600-second wait.
    progress.time = types.SimpleNamespace(monotonic=clock.time)
    try:
        with CopyHold(SIMULATED_COPY_SECONDS, clock.time):
            started = time.perf_counter()
            checked = provider.check({}, news)
            check_seconds = time.perf_counter() - started
            check_calls, _ = counter.take()
            if checked.failures:
                reasons = "; ".join(failure.reason for failure in checked.failures)
                raise SystemExit(f"check of {source_id} failed: {reasons}")

            started = time.perf_counter()
            created = provider.create(checked.inputs)
            create_seconds = time.perf_counter() - started
            create_calls, create_requests = counter.take()
    finally:
        counter.detach(client)
        defaults.clear()
        defaults.update(saved_defaults)
        progress.time = saved_progress_time
    provider.delete(created.id, created.outs)

    print(
        f"\n### One clone in this process, copy pending {SIMULATED_COPY_SECONDS:g} "
        "simulated seconds (botocore event hooks)\n"
    )
    print_steps(
        [
            ("check", check_seconds, 0.0, check_calls),
            ("create", create_seconds, clock.now, create_calls),
        ]
    )
    sleeps = ", ".join(f"{seconds:g}" for seconds in clock.sleeps)
    requests = ", ".join(
        f"{request} {number}" for request, number in sorted(create_requests.items())
    )
    print(f"\nSimulated sleeps of the wait loop (s): {sleeps}.")
    print(f"Requests of create by parameter names: {requests}.")
    describes = create_calls.get("DescribeImages", 0)
    verdict = "met" if describes <= MAX_DESCRIBE_IMAGES else "not met"
    print(
        f"Goal: ≤ {MAX_DESCRIBE_IMAGES} DescribeImages in create: {verdict} "
        f"({describes})."
    )


def print_steps(steps: list[tuple[str, float, float, Counter[str]]]) -> None:
    """Print one table row per (step, wall seconds, simulated seconds, calls)."""
    actions = sorted(
        set().union(*(calls for *_, calls in steps)),
        key=lambda name: (not is_mutating(name), name),
    )
    print(
        f"| step | wall (s) | simulated (s) | {' | '.join(actions)} | mutating | all |"
    )
    print(f"|---|---:|---:|{'---:|' * len(actions)}---:|---:|")
    for step, seconds, simulated, calls in steps:
        cells = " | ".join(str(calls.get(name, 0)) for name in actions)
        mutating = count_mutating(calls)
        print(
            f"| {step} | {seconds:.2f} | {simulated:g} | {cells} | {mutating} "
            f"| {sum(calls.values())} |"
        )

"""Additions to moto and botocore for bench/clone_bench.py.

moto makes every copy `available` at once, and CopyHold keeps copies
`pending` for a while, as real EC2 does. The counters count EC2 calls on
moto's server side and on a botocore client, and SimulatedClock lets a wait
loop sleep without time passing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

# EC2 actions whose names start with these only read. Every other one writes.
READ_ACTION_PREFIXES = ("Describe", "Get", "List")


def is_mutating(action: str) -> bool:
    return not action.startswith(READ_ACTION_PREFIXES)


def count_mutating(calls: Mapping[str, float]) -> float:
    """Return the number of calls of the actions that write."""
    return sum(number for action, number in calls.items() if is_mutating(action))


class CopyHold:
    """Keep each new copy `pending` in moto for `seconds` after its CopyImage.

    `clock` measures the hold. A held copy becomes `available` at the first
    DescribeImages after its time is up, so every reader sees one state. The
    patches replace methods of moto's AmiBackend class while the context is
    open. Copies still held at exit become `available`.
    """

    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.max_pending = 0
        self._held: dict[str, tuple[Any, float]] = {}
        self._lock = threading.Lock()
        self._originals: dict[str, Any] = {}

    def __enter__(self) -> CopyHold:
        from moto.ec2.models.amis import AmiBackend

        copy_image = AmiBackend.copy_image
        describe_images = AmiBackend.describe_images
        hold = self

        def held_copy_image(backend: Any, *args: Any, **kwargs: Any) -> Any:
            image = copy_image(backend, *args, **kwargs)
            hold._hold(image)
            return image

        def releasing_describe_images(backend: Any, *args: Any, **kwargs: Any) -> Any:
            hold._release(due_only=True)
            return describe_images(backend, *args, **kwargs)

        self._originals = {
            "copy_image": copy_image,
            "describe_images": describe_images,
        }
        AmiBackend.copy_image = held_copy_image
        AmiBackend.describe_images = releasing_describe_images
        return self

    def __exit__(self, *_exc: object) -> None:
        from moto.ec2.models.amis import AmiBackend

        for name, original in self._originals.items():
            setattr(AmiBackend, name, original)
        self._release(due_only=False)

    def reset_counts(self) -> None:
        with self._lock:
            self.max_pending = 0

    def _hold(self, image: Any) -> None:
        now = self.clock()
        with self._lock:
            image.state = "pending"
            self._held[image.id] = (image, now + self.seconds)
            pending = sum(1 for _, until in self._held.values() if until > now)
            self.max_pending = max(self.max_pending, pending)

    def _release(self, *, due_only: bool) -> None:
        now = self.clock()
        with self._lock:
            for image_id, (image, until) in list(self._held.items()):
                if not due_only or until <= now:
                    image.state = "available"
                    del self._held[image_id]


class ServerCallCounter:
    """Count the EC2 actions that moto's server handles, by action name."""

    def __init__(self) -> None:
        self._calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self) -> None:
        """Wrap moto's EC2Response.call_action for the rest of the process."""
        from moto.ec2.responses import EC2Response

        original = EC2Response.call_action
        counter = self

        def counting_call_action(response: Any) -> Any:
            with counter._lock:
                counter._calls[response._get_action()] += 1
            return original(response)

        EC2Response.call_action = counting_call_action

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._calls)


class ClientCallCounter:
    """Count the EC2 operations of botocore clients through their event hooks.

    `calls` counts operations by name. `requests` counts them by name and
    parameter names, such as `DescribeImages(ImageIds)`, which separates a read
    by id from a filtered listing.
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.ec2.*", self._count_call)
        client.meta.events.register("before-parameter-build.ec2.*", self._count_request)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-call.ec2.*", self._count_call)
        client.meta.events.unregister(
            "before-parameter-build.ec2.*", self._count_request
        )

    def take(self) -> tuple[Counter[str], Counter[str]]:
        """Return the calls and requests counted so far, and start from zero."""
        counted = (self.calls, self.requests)
        self.calls, self.requests = Counter(), Counter()
        return counted

    def _count_call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _count_request(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.requests[f"{model.name}({', '.join(sorted(params))})"] += 1


class SimulatedClock:
    """A clock that starts at 0 and moves only when `sleep` is called."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

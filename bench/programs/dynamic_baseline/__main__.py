"""`count` dynamic resources that call no cloud API, for bench/clone_bench.py.

Config: count (required), sleepSeconds (default 0). Each create sleeps
sleepSeconds and then returns, at once when sleepSeconds is 0. The resources run
through the same `pulumi.dynamic` provider server as ClonedAmi, so they show
what the engine and that server cost without any EC2 work.
"""

import time
import uuid
from typing import Any

import pulumi
import pulumi.dynamic


class SleepingProvider(pulumi.dynamic.ResourceProvider):
    """Provider whose create sleeps `sleep_seconds` and whose delete does nothing."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        time.sleep(float(props["sleep_seconds"]))
        return pulumi.dynamic.CreateResult(uuid.uuid4().hex, props)


class Baseline(pulumi.dynamic.Resource):
    def __init__(self, name: str, sleep_seconds: float) -> None:
        super().__init__(SleepingProvider(), name, {"sleep_seconds": sleep_seconds})


config = pulumi.Config()
sleep_seconds = config.get_float("sleepSeconds") or 0.0
resources = [
    Baseline(f"baseline-{number}", sleep_seconds)
    for number in range(config.require_int("count"))
]
pulumi.export("ids", [resource.id for resource in resources])

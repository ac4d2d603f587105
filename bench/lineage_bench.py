"""Benchmark: find_children against a bare paginated listing of the same regions.

Usage: python bench/lineage_bench.py [--sizes 1000,10000] [--repeats 5]

For each size, the script fills moto's EC2 server (on 127.0.0.1, a free port)
with that many tagged images spread over three regions, as one deep chain per
region plus fan-out, then times in one run:

- the bare listing: one paginated DescribeImages (Owners=self) per region,
  the three regions listed concurrently, nothing else done with the result;
- find_children from the root image across the same three regions.

It counts the EC2 calls of each with botocore event hooks and prints one
Markdown table row per size: median seconds of each, their ratio, and the
call counts. The images are created through moto's backend objects, because
creating 10,000 images through the API would dominate the run.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ACCOUNT_ID = "123456789012"

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def configure_environment() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGIONS[0],
            "AWS_EC2_METADATA_DISABLED": "true",
            # The catalog's ~1,300 public images per region are not ours and
            # would only slow moto's filtering down equally for both sides.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        }
    )
    os.environ.pop("AWS_PROFILE", None)


def populate(size: int) -> str:
    """Create `size` tagged images over REGIONS in moto; return the root's id."""
    import datetime as dt

    from moto.backends import get_backend

    from amitools_pulumi.tags import lineage_tags

    backends = get_backend("ec2")[ACCOUNT_ID]
    home = backends[REGIONS[0]]
    root = home.register_image(name="bench-root", description="root")
    created = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    # Each region gets a chain of parents; every image's parent is chosen
    # among the images already made, so the tree mixes depth and fan-out.
    made = [(root.id, REGIONS[0])]
    for number in range(size):
        region = REGIONS[number % len(REGIONS)]
        parent_id, parent_region = made[(number * 7) // 10] if number else made[0]
        image = backends[region].register_image(name=f"bench-{number}", description="")
        tags = lineage_tags(
            parent_id, parent_region, created + dt.timedelta(seconds=number)
        )
        backends[region].create_tags([image.id], tags)
        made.append((image.id, region))
    return root.id


class CallCounter:
    """Count EC2 operations made through one set of boto3 clients."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def attach(self, client: object) -> None:
        client.meta.events.register("before-call.ec2.*", self._count)  # type: ignore[attr-defined]

    def _count(self, model: object, **_: object) -> None:
        self.calls[model.name] += 1  # type: ignore[attr-defined]


def bare_listing(clients: dict[str, object]) -> int:
    def list_region(region: str) -> int:
        paginator = clients[region].get_paginator("describe_images")  # type: ignore[attr-defined]
        return sum(len(page["Images"]) for page in paginator.paginate(Owners=["self"]))

    with ThreadPoolExecutor(max_workers=len(REGIONS)) as pool:
        return sum(pool.map(list_region, REGIONS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,10000", help="comma-separated image counts"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per side")
    arguments = parser.parse_args()
    configure_environment()

    import boto3
    import requests
    from moto.server import ThreadedMotoServer

    from amitools_pulumi import aws
    from amitools_pulumi.lineage import find_children

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; repeats: {arguments.repeats}"
    )
    print(
        "| images | bare listing (s) | find_children (s) | ratio "
        "| calls, listing | calls, find_children | nodes found |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    bare_clients = {
        region: boto3.client("ec2", region_name=region) for region in REGIONS
    }
    bare_counter, query_counter = CallCounter(), CallCounter()
    for region in REGIONS:
        bare_counter.attach(bare_clients[region])
        query_counter.attach(aws.ec2_client(region))

    try:
        for size in (int(text) for text in arguments.sizes.split(",")):
            requests.post(f"{endpoint}/moto-api/reset", timeout=30)
            root = populate(size)
            bare_counter.calls.clear()
            query_counter.calls.clear()

            bare_times, query_times, nodes = [], [], 0
            for _ in range(arguments.repeats):
                started = time.perf_counter()
                bare_listing(bare_clients)
                bare_times.append(time.perf_counter() - started)

                started = time.perf_counter()
                nodes = len(find_children(root, REGIONS[0], regions=REGIONS))
                query_times.append(time.perf_counter() - started)

            bare, query = statistics.median(bare_times), statistics.median(query_times)
            calls_bare = sum(bare_counter.calls.values()) // arguments.repeats
            calls_query = sum(query_counter.calls.values()) // arguments.repeats
            print(
                f"| {size:,} | {bare:.3f} | {query:.3f} | {query / bare:.2f}x "
                f"| {calls_bare} | {calls_query} | {nodes:,} |",
                flush=True,
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()

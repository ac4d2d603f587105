"""Benchmark: `pulumi up` of ClonedAmi resources, their EC2 calls, provider import.

Usage: python bench/clone_bench.py [--counts 1,5,20] [--hold 10] [--repeats 1]
           [--parallel default,32] [--import-runs 7] [--only scaling|calls|import]

The script starts moto's EC2 server on 127.0.0.1 (a free port) in its own
process, registers one source image, and measures in one run:

- scaling: wall seconds of `pulumi up` of N ClonedAmi resources of that
  image, run by the real CLI through the Automation API, once for each
  --parallel value (`default`: the flag is not passed). Beside them run N no-op
  dynamic resources and N dynamic resources whose create sleeps the hold
  time. moto keeps every copy `pending` for the hold time after its
  CopyImage, then makes it `available`. Each up runs on a fresh stack and
  file backend, and a destroy, timed apart, follows it. The EC2 actions
  that moto's server handles during each up and destroy are counted by
  action and reported per clone.
- calls: the provider's check and create, called in this process, for one
  copy that stays `pending` for 600 simulated seconds. The wait loop and the
  progress reporter get a simulated clock, and the wait loop a simulated
  sleep, so the run takes seconds. botocore event hooks on the package's
  shared EC2 client count the calls.
- import: in fresh interpreters (bench/programs/import_probe.py), the median
  time of importing the provider, its share after `import pulumi.dynamic`,
  the first and second `check` against moto, and the largest imports below
  it under `python -X importtime`.

Each part prints Markdown table rows. moto's server runs in a thread of this
process, so the patches that this script makes to moto's backend classes
apply to the requests of the provider's own process as well.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from create_calls import run_simulated_create
from import_latency import run_import
from moto_emulation import CopyHold, ServerCallCounter, count_mutating, is_mutating
from pulumi_stacks import StackFactory, pulumi_bin_dir

REPO = Path(__file__).resolve().parents[1]
PROGRAMS = Path(__file__).resolve().parent / "programs"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Stack kinds of the scaling part: the two baselines, then the product.
KINDS = ("no-op", "sleep", "clones")
MAX_UP_RATIO = 1.5
MAX_MUTATING_PER_CLONE = 3

sys.path.insert(0, str(REPO))


def configure_environment() -> None:
    """Point AWS clients at a closed loopback port, with dummy credentials.

    The moto server's endpoint replaces the port once it listens, so a client
    made too early fails instead of reaching AWS. PULUMI_PARALLEL is dropped
    so that a `pulumi up` without --parallel uses the CLI's default.
    """
    for key in (
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "PULUMI_PARALLEL",
    ):
        os.environ.pop(key, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            # moto's catalog of public images only slows its filtering down.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        }
    )


@dataclass
class Measurement:
    """One `pulumi up` and the destroy after it."""

    up_seconds: float
    destroy_seconds: float
    up_calls: Counter[str]
    destroy_calls: Counter[str]
    max_pending: int


def measure_stack(
    stacks: StackFactory,
    counter: ServerCallCounter,
    hold: CopyHold,
    program: Path,
    config: dict[str, str],
    count: int,
    parallel: int | None,
) -> Measurement:
    """Run `pulumi up` and then `pulumi destroy` on a new stack of `program`.

    `parallel` None leaves `--parallel` to the CLI's default.
    """
    stack = stacks.create(program, config)
    hold.reset_counts()
    try:
        before = counter.snapshot()
        started = time.perf_counter()
        result = stack.up(parallel=parallel)
        up_seconds = time.perf_counter() - started
        up_calls = counter.snapshot() - before
        max_pending = hold.max_pending
    finally:
        before = counter.snapshot()
        started = time.perf_counter()
        stack.destroy()
        destroy_seconds = time.perf_counter() - started
        destroy_calls = counter.snapshot() - before
        stack.workspace.remove_stack(stack.name)

    # The stack itself counts as one created resource.
    created = result.summary.resource_changes.get("create", 0)
    if created != count + 1:
        raise SystemExit(
            f"pulumi up of {program.name} created {created} resources, expected "
            f"{count + 1}; see {stacks.root}"
        )
    return Measurement(
        up_seconds, destroy_seconds, up_calls, destroy_calls, max_pending
    )


def run_scaling(
    stacks: StackFactory,
    counter: ServerCallCounter,
    source_id: str,
    counts: list[int],
    hold_seconds: float,
    repeats: int,
    parallel: int | None,
) -> None:
    """Print the scaling table, then the EC2 calls per clone of up and destroy.

    `parallel` None leaves `--parallel` to the CLI's default.
    """
    programs = {
        "no-op": (PROGRAMS / "dynamic_baseline", {"sleepSeconds": "0"}),
        "sleep": (PROGRAMS / "dynamic_baseline", {"sleepSeconds": str(hold_seconds)}),
        "clones": (PROGRAMS / "clones", {"sourceAmiId": source_id}),
    }
    base = counts[0]
    setting = "the CLI's default" if parallel is None else str(parallel)
    print(
        f"\n### pulumi up --parallel {setting}: N resources, median of {repeats} "
        f"(each copy pending {hold_seconds:g} s after its CopyImage)\n"
    )
    print(
        f"| N | no-op up (s) | sleep {hold_seconds:g} s up (s) | ClonedAmi up (s) "
        f"| ClonedAmi ÷ ClonedAmi({base}) | sleep ÷ sleep({base}) "
        "| ClonedAmi − sleep (s) | max copies pending at once "
        "| ClonedAmi destroy (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    medians: dict[tuple[str, int], float] = {}
    clone_runs: dict[int, list[Measurement]] = {}
    with CopyHold(hold_seconds) as hold:
        for count in counts:
            runs: dict[str, list[Measurement]] = {kind: [] for kind in KINDS}
            # The kinds alternate within each repeat, so that a slow spell of
            # the machine does not fall on one kind only.
            for _ in range(repeats):
                for kind in KINDS:
                    program, config = programs[kind]
                    config = {**config, "count": str(count)}
                    runs[kind].append(
                        measure_stack(
                            stacks, counter, hold, program, config, count, parallel
                        )
                    )
            for kind in KINDS:
                medians[kind, count] = statistics.median(
                    run.up_seconds for run in runs[kind]
                )
            clone_runs[count] = runs["clones"]

            clones, sleep = medians["clones", count], medians["sleep", count]
            destroy = statistics.median(run.destroy_seconds for run in runs["clones"])
            pending = max(run.max_pending for run in runs["clones"])
            print(
                f"| {count} | {medians['no-op', count]:.1f} | {sleep:.1f} "
                f"| {clones:.1f} | {clones / medians['clones', base]:.2f}x "
                f"| {sleep / medians['sleep', base]:.2f}x | {clones - sleep:+.1f} "
                f"| {pending} | {destroy:.1f} |",
                flush=True,
            )

    largest = counts[-1]
    ratio = medians["clones", largest] / medians["clones", base]
    verdict = "met" if ratio <= MAX_UP_RATIO else "not met"
    print(
        f"\nGoal: {largest} ClonedAmi up ≤ {MAX_UP_RATIO:g}x the time of {base}: "
        f"{verdict} ({ratio:.2f}x)."
    )
    print_calls_per_clone(
        "pulumi up", clone_runs, "up_calls", goal=MAX_MUTATING_PER_CLONE
    )
    print_calls_per_clone("pulumi destroy", clone_runs, "destroy_calls", goal=None)


def print_calls_per_clone(
    title: str, runs: dict[int, list[Measurement]], field: str, goal: int | None
) -> None:
    """Print the mean EC2 actions per clone, by action, for each N."""
    per_clone = {
        count: _mean_calls([getattr(run, field) for run in measured], count)
        for count, measured in runs.items()
    }
    actions = sorted(
        set().union(*per_clone.values()), key=lambda name: (not is_mutating(name), name)
    )
    print(f"\n### EC2 calls per clone during {title} (moto server side)\n")
    print(f"| N | {' | '.join(actions)} | mutating | all |")
    print(f"|---:|{'---:|' * len(actions)}---:|---:|")
    worst = 0.0
    for count, calls in per_clone.items():
        mutating = count_mutating(calls)
        worst = max(worst, mutating)
        cells = " | ".join(f"{calls.get(name, 0):.2f}" for name in actions)
        print(f"| {count} | {cells} | {mutating:.2f} | {sum(calls.values()):.2f} |")
    if goal is not None:
        verdict = "met" if worst <= goal else "not met"
        print(
            f"\nGoal: ≤ {goal} mutating calls per clone: {verdict} "
            f"(at most {worst:.2f})."
        )


def _mean_calls(counters: list[Counter[str]], count: int) -> dict[str, float]:
    total: Counter[str] = Counter()
    for calls in counters:
        total.update(calls)
    return {name: value / (count * len(counters)) for name, value in total.items()}


def register_source_image() -> str:
    """Register the image that every clone copies, through moto's backend."""
    from moto.backends import get_backend

    backend = get_backend("ec2")[ACCOUNT_ID][REGION]
    image = backend.register_image(name="clone-bench-source", description="source")
    return image.id


def print_header(
    bin_dir: Path, hold_seconds: float, parallels: list[int | None]
) -> None:
    """Print the date, the machine, the software versions and the settings."""
    cli = subprocess.run(
        [str(bin_dir / "pulumi"), "version"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
    ).stdout.strip()

    # An estimate of Go's default GOMAXPROCS: the CPUs this process may run on.
    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:
        cpus = os.cpu_count() or 1
    procs = os.environ.get("GOMAXPROCS") or cpus
    settings = []
    for parallel in parallels:
        if parallel is None:
            settings.append(
                "without `--parallel`, so the CLI's default applies "
                f"(4 x GOMAXPROCS, GOMAXPROCS {procs})"
            )
        else:
            settings.append(f"with `--parallel {parallel}`")
    parallelism = ", then ".join(settings)

    versions = ", ".join(
        f"{package} {metadata.version(package)}"
        for package in ("pulumi", "moto", "boto3", "botocore")
    )
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"## bench/clone_bench.py, {now}\n")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}; Python {platform.python_version()}; "
        f"Pulumi CLI {cli or 'unknown'}; {versions}."
    )
    print(
        f"pulumi up: Automation API, {parallelism}. The SDK's pulumi.dynamic server "
        f"starts with 4 worker threads. Each copy is pending {hold_seconds:g} s."
    )
    print(f"Package: {package_revision()}.")


def package_revision() -> str:
    """Return the repository's commit and the changed files of the package."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args],
            capture_output=True,
            text=True,
            check=False,
        ).stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown commit"
    changed = [
        line[3:]
        for line in git("status", "--porcelain", "amitools_pulumi").splitlines()
    ]
    state = f"uncommitted changes in {', '.join(changed)}" if changed else "no changes"
    return f"commit {commit}, {state}, sources {package_digest()}"


def package_digest() -> str:
    """Return a short SHA-256 of the package's Python sources, in path order."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "amitools_pulumi").rglob("*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def parse_parallels(text: str) -> list[int | None]:
    """Parse `default,32` into [None, 32]; None leaves the CLI's default."""
    parallels: list[int | None] = []
    for part in (part.strip() for part in text.split(",")):
        if part == "default":
            parallels.append(None)
        elif part.isdigit() and int(part) >= 1:
            parallels.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                f"--parallel {text!r} is invalid: give `default` or positive "
                "integers, such as default,32"
            )
    return parallels


def parse_counts(text: str) -> list[int]:
    counts = sorted({int(part) for part in text.split(",") if part.strip()})
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(
            f"--counts {text!r} is invalid: give positive integers such as 1,5,20"
        )
    return counts


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's server on a free loopback port and point AWS clients at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        yield endpoint
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--counts",
        type=parse_counts,
        default="1,5,20",
        help="comma-separated resource counts of the scaling part (default 1,5,20)",
    )
    parser.add_argument(
        "--hold",
        type=float,
        default=10.0,
        help="seconds each copy stays pending after its CopyImage (default 10)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="pulumi up runs per kind and N, reported as the median (default 1)",
    )
    parser.add_argument(
        "--parallel",
        type=parse_parallels,
        default="default,32",
        help="comma-separated values of pulumi up --parallel, `default` for the "
        "CLI's own (default: default,32)",
    )
    parser.add_argument(
        "--import-runs",
        type=int,
        default=7,
        help="fresh interpreters per import measurement (default 7)",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=12,
        help="rows of the largest-imports table (default 12)",
    )
    parser.add_argument(
        "--only", choices=("scaling", "calls", "import"), help="run one part only"
    )
    arguments = parser.parse_args()
    run_started = time.perf_counter()
    configure_environment()

    bin_dir = pulumi_bin_dir()
    digest_at_start = package_digest()
    print_header(bin_dir, arguments.hold, arguments.parallel)
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as root:
        counter = ServerCallCounter()
        counter.install()
        source_id = register_source_image()
        if arguments.only in (None, "scaling"):
            stacks = StackFactory(Path(root), bin_dir, endpoint, REGION)
            for parallel in arguments.parallel:
                run_scaling(
                    stacks,
                    counter,
                    source_id,
                    arguments.counts,
                    arguments.hold,
                    arguments.repeats,
                    parallel,
                )
        if arguments.only in (None, "calls"):
            run_simulated_create(source_id, REGION)
        if arguments.only in (None, "import"):
            run_import(source_id, REGION, arguments.import_runs, arguments.top)

    if package_digest() != digest_at_start:
        print(
            f"\nThe package's sources changed during the run (now {package_digest()}"
            f", at the start {digest_at_start}), so the parts may have measured "
            "different code."
        )
    print(f"\nTotal run time: {time.perf_counter() - run_started:.0f} s.")


if __name__ == "__main__":
    main()

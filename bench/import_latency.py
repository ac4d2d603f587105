"""Import time of the provider module and latency of its first check.

Part of bench/clone_bench.py. Every measurement runs
bench/programs/import_probe.py in a fresh interpreter, so no module is
cached in memory. The operating system's file cache stays warm after the
first run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PROBE = Path(__file__).resolve().parent / "programs" / "import_probe.py"
MAX_IMPORT_SECONDS = 0.3


def run_import(source_id: str, region: str, runs: int, top: int) -> None:
    """Print import and first-check latency, and the largest imports."""
    cold = [_probe("cold", source_id, region) for _ in range(runs)]
    after_sdk = [_probe("after-sdk") for _ in range(runs)]

    print(
        f"\n### Provider import and first call, median of {runs} fresh interpreters\n"
    )
    print("| measurement | median (ms) | min (ms) | max (ms) |")
    print("|---|---:|---:|---:|")
    rows = (
        ("`import amitools_pulumi.provider` as first import", cold, "provider_import"),
        ("`import pulumi.dynamic` alone", after_sdk, "sdk_import"),
        ("provider import after `pulumi.dynamic`", after_sdk, "provider_import"),
        ("first `check` (session, client, 1 call)", cold, "first_check"),
        ("second `check` (1 call)", cold, "second_check"),
    )
    for label, results, key in rows:
        values = [result[key] * 1000 for result in results]
        print(
            f"| {label} | {statistics.median(values):.0f} | {min(values):.0f} "
            f"| {max(values):.0f} |"
        )
    median_import = statistics.median(result["provider_import"] for result in cold)
    verdict = "met" if median_import <= MAX_IMPORT_SECONDS else "not met"
    print(
        f"\nGoal: import ≤ {MAX_IMPORT_SECONDS * 1000:.0f} ms: {verdict} "
        f"({median_import * 1000:.0f} ms)."
    )

    print_largest_imports(top)


def print_largest_imports(top: int) -> None:
    """Print the largest imports below `import amitools_pulumi.provider`.

    Listed are the modules that amitools_pulumi modules import first, and every
    module that `import pulumi.dynamic` does not load. The dynamic provider's
    process runs that import before it loads a provider, so only modules
    outside it add to the provider's start. A module's cumulative time
    includes everything that it imports in turn, so a row's time also counts
    in the row of its importer.
    """
    sdk_modules = set(json.loads(_python_output(str(PROBE), "sdk-modules")))
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import amitools_pulumi.provider"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    rows = []
    own_code = 0
    for module, parent, own, cumulative in _parse_importtime(stderr):
        if module.startswith("amitools_pulumi"):
            own_code += own
        elif (parent or "").startswith("amitools_pulumi") or module not in sdk_modules:
            rows.append((cumulative, module, parent))
    rows.sort(reverse=True)

    print(
        "\n### Largest imports below `import amitools_pulumi.provider` "
        f"(one `python -X importtime` run, top {top})\n"
    )
    print("| module | cumulative (ms) | imported by | loaded by pulumi.dynamic too |")
    print("|---|---:|---|---|")
    for cumulative, module, parent in rows[:top]:
        shared = "yes" if module in sdk_modules else "no"
        print(f"| `{module}` | {cumulative / 1000:.0f} | `{parent}` | {shared} |")
    print(
        f"\nThe amitools_pulumi modules' own code took {own_code / 1000:.0f} ms "
        "(sum of their self times)."
    )


def _parse_importtime(stderr: str) -> Iterator[tuple[str, str | None, int, int]]:
    """Yield (module, importing module, self µs, cumulative µs) per import line.

    `-X importtime` prints a module after the modules that it imports, indented
    two more spaces, so when the lines are read backwards, each line's
    importing module comes before it.
    """
    lines = [
        line.removeprefix("import time:").split("|")
        for line in stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    ]
    parents: dict[int, str] = {}
    for own, cumulative, name in reversed(lines):
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        module = name.strip()
        parents[depth] = module
        yield module, parents.get(depth - 1), int(own), int(cumulative)


def _probe(mode: str, *args: str) -> dict[str, float]:
    return json.loads(_python_output(str(PROBE), mode, *args))


def _python_output(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{script} {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout

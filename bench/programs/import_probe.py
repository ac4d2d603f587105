"""Time the provider's import and its first checks in a fresh interpreter.

Usage: python import_probe.py MODE [SOURCE_AMI_ID REGION]

- `cold`: time `from amitools_pulumi.provider import ImageCopyProvider` as the
  first import, then the first and the second `ImageCopyProvider.check` of a
  clone of SOURCE_AMI_ID in REGION, against the EC2 endpoint that botocore
  reads from AWS_ENDPOINT_URL. The first check includes creating the
  package's AWS session and EC2 client.
- `after-sdk`: time `import pulumi.dynamic` first, as the dynamic provider's
  process imports it before it loads any provider, then the provider's import.
- `sdk-modules`: list the modules that `import pulumi.dynamic` loads.

Prints one JSON object (times in seconds) or, for `sdk-modules`, a JSON list.
Nothing is imported before the timed import except `sys` and `time`, which
every interpreter has loaded at start.
"""

import sys
import time


def main() -> None:
    mode = sys.argv[1]
    result: dict[str, float] = {}

    if mode in ("after-sdk", "sdk-modules"):
        started = time.perf_counter()
        import pulumi.dynamic  # noqa: F401

        result["sdk_import"] = time.perf_counter() - started
    if mode == "sdk-modules":
        import json

        print(json.dumps(sorted(sys.modules)))
        return

    started = time.perf_counter()
    from amitools_pulumi.provider import ImageCopyProvider

    result["provider_import"] = time.perf_counter() - started

    if mode == "cold":
        image_id, region = sys.argv[2], sys.argv[3]
        provider = ImageCopyProvider()
        news = {
            "source_ami_id": image_id,
            "source_region": region,
            "region": region,
            "resource_key": "clone-bench/import-probe/ClonedAmi/probe",
        }
        for key in ("first_check", "second_check"):
            started = time.perf_counter()
            checked = provider.check({}, dict(news))
            result[key] = time.perf_counter() - started
            if checked.failures:
                reasons = "; ".join(failure.reason for failure in checked.failures)
                raise SystemExit(f"check of {image_id} in {region} failed: {reasons}")

    import json

    print(json.dumps(result))


if __name__ == "__main__":
    main()

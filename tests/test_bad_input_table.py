"""One table of bad inputs: each is rejected before any AWS write, naming value and fix.

Resource inputs go through the provider's `check` (what `pulumi preview`
runs) or the resource constructors (what the program runs); lineage inputs
through the plain functions; command-line inputs through `amitools`. The
end-to-end tests show a sample of the same messages through the real CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from amitools_pulumi import ClonedAmi, CopiedAmi, find_ancestors, find_children
from amitools_pulumi.cli import main
from amitools_pulumi.errors import AmitoolsError
from amitools_pulumi.provider import ImageCopyProvider
from tests.conftest import HOME_REGION
from tests.helpers import moto_image, own_image_ids
from tests.moto_faults import MarketplaceEmulation


def check_failures(source: str, news: dict[str, Any]) -> str:
    """Run the provider's check on a clone of `source`, changed by `news`."""
    base = {
        "source_ami_id": source,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
    }
    result = ImageCopyProvider().check({}, {**base, **news})
    return " | ".join(failure.reason for failure in result.failures)


def constructor_error(resource: Callable[..., Any], **kwargs: Any) -> str:
    """Build a resource under Pulumi's mocks and return the error it raises."""

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: Any) -> tuple[str, dict]:
            return "id", dict(args.inputs)

        def call(self, args: Any) -> dict:
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=True)
    with pytest.raises(AmitoolsError) as raised:
        resource("bad", **kwargs)
    return str(raised.value)


def lineage_error(function: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AmitoolsError) as raised:
        function(*args, **kwargs)
    return str(raised.value)


def cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    assert code == 2
    return capsys.readouterr().err


CASES = [
    # ClonedAmi and CopiedAmi inputs, as preview checks them.
    (
        "source-malformed",
        {"source_ami_id": "ami-xyz"},
        "'ami-xyz' is not a valid image id",
    ),
    ("source-uppercase", {"source_ami_id": "AMI-12345678"}, "is not a valid image id"),
    (
        "source-snapshot-id",
        {"source_ami_id": "snap-12345678"},
        "is not a valid image id",
    ),
    (
        "source-missing-image",
        {"source_ami_id": "ami-0123456789abcdef0"},
        "was not found in region us-east-1",
    ),
    (
        "region-unknown",
        {"region": "us-nowhere-1"},
        "'us-nowhere-1' is not a known AWS region",
    ),
    (
        "source-region-unknown",
        {"source_region": "mars-1", "region": "eu-west-1"},
        "'mars-1' is not a known AWS region",
    ),
    ("name-too-short", {"name": "ab"}, "'ab' is not a valid image name"),
    (
        "name-too-long",
        {"name": "n" * 129},
        "is not a valid image name; AWS requires 3 to 128",
    ),
    ("name-bad-character", {"name": "web|app"}, "'web|app' is not a valid image name"),
    ("prefix-too-long", {"random_name_prefix": "p" * 98}, "is not a valid name prefix"),
    (
        "prefix-bad-character",
        {"random_name_prefix": "a*b"},
        "'a*b' is not a valid name prefix",
    ),
    ("description-too-long", {"description": "d" * 256}, "too long (256 characters)"),
    ("description-not-text", {"description": 42}, "42 is not a string"),
    ("tag-reserved-prefix", {"tags": {"aws:team": "x"}}, "reserved 'aws:' prefix"),
    (
        "tag-lineage-key",
        {"tags": {"create_date": "x"}},
        "is a lineage tag that the resource manages",
    ),
    (
        "tag-key-too-long",
        {"tags": {"k" * 129: "x"}},
        "tag keys are 1 to 128 characters",
    ),
    ("tag-value-too-long", {"tags": {"team": "v" * 257}}, "at most 256 characters"),
    ("tags-too-many", {"tags": {f"k{i}": "v" for i in range(46)}}, "has 46 tags"),
    ("kms-without-encrypted", {"kms_key_id": "alias/x"}, "but encrypted is not true"),
    (
        "kms-malformed",
        {"encrypted": True, "kms_key_id": "key please"},
        "is not a KMS key id",
    ),
    ("encrypted-not-bool", {"encrypted": "yes"}, "'yes' is not a boolean"),
    ("timeout-zero", {"wait_timeout_minutes": 0}, "0 is out of range"),
    ("timeout-text", {"wait_timeout_minutes": "10"}, "'10' is not a number"),
    ("timeout-too-long", {"wait_timeout_minutes": 3000}, "3000 is out of range"),
    (
        "profile-unknown",
        {"profile": "nosuchprofile"},
        "profile 'nosuchprofile' is not a profile in the AWS config",
    ),
    (
        "adopt-malformed",
        {"adopt_image_id": "ami-!"},
        "adopt_image_id 'ami-!' is not a valid image id",
    ),
]


@pytest.mark.parametrize(
    ("news", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_preview_rejects(
    news: dict[str, Any], expected: str, ec2: Any, foundation_image_id: str
) -> None:
    before = own_image_ids(ec2(HOME_REGION))

    reasons = check_failures(foundation_image_id, news)

    assert expected in reasons
    assert own_image_ids(ec2(HOME_REGION)) == before


def pending_source(image: Any, _marketplace: MarketplaceEmulation) -> None:
    image.state = "pending"


def deregistered_source(image: Any, _marketplace: MarketplaceEmulation) -> None:
    # Real EC2 still lists a deregistered image for a while; moto drops it.
    image.state = "deregistered"


def marketplace_source(image: Any, marketplace: MarketplaceEmulation) -> None:
    marketplace.mark(image)


SOURCE_CASES = [
    (pending_source, "is pending, not available; wait until it is available"),
    (deregistered_source, "was not found in region us-east-1; check the image id"),
    (
        marketplace_source,
        "carries AWS Marketplace product code 8fjcaspr7cnf4ioej4j8v3fzx and belongs "
        "to account 679593333241",
    ),
    (marketplace_source, "create an image of that instance, and copy that image"),
]


@pytest.mark.parametrize(
    ("prepare", "expected"),
    SOURCE_CASES,
    ids=["pending", "deregistered", "marketplace-owner", "marketplace-fix"],
)
def test_preview_rejects_source(
    prepare: Callable[[Any, MarketplaceEmulation], None],
    expected: str,
    ec2: Any,
    foundation_image_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = ec2(HOME_REGION)
    source = client.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="source"
    )["ImageId"]
    prepare(moto_image(HOME_REGION, source), MarketplaceEmulation(monkeypatch))
    before = own_image_ids(client)

    reasons = check_failures(source, {})

    assert expected in reasons
    assert own_image_ids(client) == before


def test_program_rejects_missing_source() -> None:
    message = constructor_error(ClonedAmi, region=HOME_REGION)

    assert "source_ami_id is missing; pass the id of the image to copy" in message


def test_program_rejects_copy_without_source_region() -> None:
    message = constructor_error(
        CopiedAmi, source_ami_id="ami-12345678", region=HOME_REGION
    )

    assert "source_region is missing; pass the region that holds" in message


def test_program_rejects_tag_without_value() -> None:
    message = constructor_error(
        ClonedAmi, source_ami_id="ami-12345678", region=HOME_REGION, tags={"team": None}
    )

    assert "tags team have no value" in message


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda: find_children("ami-nope", HOME_REGION),
            "'ami-nope' is not a valid image id",
        ),
        (
            lambda: find_children("ami-12345678", "moon-1"),
            "'moon-1' is not a known AWS region",
        ),
        (
            lambda: find_children("ami-12345678", HOME_REGION, regions=["moon-1"]),
            "regions 'moon-1' is not a known AWS region",
        ),
        (
            lambda: find_children("ami-12345678", HOME_REGION, regions="us-east-1"),
            "is a string; pass a list of region names",
        ),
        (
            lambda: find_ancestors("ami-12345678", HOME_REGION, max_depth=-1),
            "max_depth -1 is invalid",
        ),
    ],
    ids=["id", "region", "regions-entry", "regions-string", "max-depth"],
)
def test_lineage_rejects(
    call: Callable[[], Any], expected: str, moto_endpoint: str
) -> None:
    assert expected in lineage_error(call)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            [
                "tag",
                "ami-12345678",
                "--source-image",
                "ami-bad!",
                "--create-timestamp",
                "1796399915",
            ],
            "source_image 'ami-bad!' is not a valid image id",
        ),
        (
            [
                "tag",
                "ami-12345678",
                "--source-image",
                "ami-87654321",
                "--create-date",
                "yesterday",
            ],
            "'yesterday' is not in the form YYYYMMDDTHHMMSSZ",
        ),
        (
            [
                "tag",
                "ami-12345678",
                "--source-image",
                "ami-87654321",
                "--create-timestamp",
                "-5",
            ],
            "'-5' is not whole epoch seconds",
        ),
        (["children", "ami-12345678", "--max-depth", "0"], "max_depth 0 is invalid"),
        (
            ["children", "ami-12345678", "--profile", "nosuchprofile"],
            "(nosuchprofile) could not be found; check --profile and AWS_PROFILE",
        ),
    ],
    ids=["tag-source", "tag-date", "tag-timestamp", "children-depth", "profile"],
)
def test_cli_rejects(
    argv: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    moto_endpoint: str,
) -> None:
    assert expected in cli_error(capsys, *argv, "--region", HOME_REGION)


def test_cli_rejects_missing_region(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)

    message = cli_error(capsys, "children", "ami-12345678")

    assert "no AWS region given: pass --region" in message

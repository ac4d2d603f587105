"""ImageCopyProvider's operations called directly against the moto server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.output import Unknown

from amitools_pulumi import aws
from amitools_pulumi.errors import (
    CopyFailedError,
    DescendantsExistError,
    MissingLineageTagsError,
)
from amitools_pulumi.provider import ImageCopyProvider
from amitools_pulumi.tags import COPYING_PREFIX, TOKEN_TAG
from tests.conftest import COPY_REGION, HOME_REGION
from tests.helpers import (
    describe,
    image_tags,
    moto_image,
    own_image_ids,
    snapshot_exists,
    snapshot_tags,
)


@pytest.fixture
def provider(moto_endpoint: str) -> ImageCopyProvider:
    return ImageCopyProvider()


@pytest.fixture
def clone_inputs(
    provider: ImageCopyProvider, foundation_image_id: str
) -> dict[str, Any]:
    news = {
        "source_ami_id": foundation_image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
        "tags": {"team": "platform"},
        "description": "unit test clone",
    }
    result = provider.check({}, news)
    assert result.failures == []
    return result.inputs


@pytest.fixture
def created(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Create a clone, and delete it after the test if the test did not."""
    result = provider.create(clone_inputs)
    yield result.id, result.outs
    provider.delete(result.id, result.outs)


def failures_of(provider: ImageCopyProvider, news: dict[str, Any]) -> dict[str, str]:
    return {
        failure.property: failure.reason
        for failure in provider.check({}, news).failures
    }


def test_check_generates_a_name(clone_inputs: dict[str, Any]) -> None:
    assert clone_inputs["name"].startswith("AMI-")
    assert clone_inputs["name_generated"] is True


def test_check_keeps_the_generated_name(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any]
) -> None:
    news = {
        key: clone_inputs[key] for key in ("source_ami_id", "source_region", "region")
    }

    again = provider.check(clone_inputs, news)

    assert again.inputs["name"] == clone_inputs["name"]


def test_check_renames_when_the_source_changes(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any]
) -> None:
    news = {
        "source_ami_id": "ami-0123456789abcdef0",
        "source_region": HOME_REGION,
        "region": HOME_REGION,
    }

    again = provider.check(clone_inputs, news)

    assert again.inputs["name"] != clone_inputs["name"]


def test_check_uses_the_name_prefix(
    provider: ImageCopyProvider, foundation_image_id: str
) -> None:
    news = {
        "source_ami_id": foundation_image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
        "random_name_prefix": "ubuntu-base",
    }

    assert provider.check({}, news).inputs["name"].startswith("ubuntu-base-")


@pytest.mark.parametrize(
    ("news", "field", "fragment"),
    [
        ({"source_ami_id": None}, "source_ami_id", "is missing"),
        ({"source_ami_id": "ami-12"}, "source_ami_id", "is not a valid image id"),
        ({"region": "xx-east-9"}, "region", "is not a known AWS region"),
        ({"source_region": ""}, "source_region", "is missing"),
        ({"name": "no"}, "name", "is not a valid image name"),
        (
            {"random_name_prefix": "p" * 98},
            "random_name_prefix",
            "not a valid name prefix",
        ),
        ({"description": "d" * 300}, "description", "too long (300 characters)"),
        ({"tags": {"aws:x": "y"}}, "tags", "reserved 'aws:' prefix"),
    ],
)
def test_check_rejects(
    provider: ImageCopyProvider,
    foundation_image_id: str,
    news: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    base = {
        "source_ami_id": foundation_image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
    }

    failures = failures_of(provider, {**base, **news})

    assert fragment in failures[field]


def test_check_rejects_a_missing_source_image(provider: ImageCopyProvider) -> None:
    news = {
        "source_ami_id": "ami-0123456789abcdef0",
        "source_region": HOME_REGION,
        "region": HOME_REGION,
    }

    failures = failures_of(provider, news)

    assert "was not found in region us-east-1" in failures["source_ami_id"]


def test_check_accepts_an_unknown_source(provider: ImageCopyProvider) -> None:
    news = {
        "source_ami_id": Unknown(),
        "source_region": HOME_REGION,
        "region": COPY_REGION,
    }

    assert provider.check({}, news).failures == []


def test_check_skips_source_of_existing_copy(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any]
) -> None:
    # The vendor withdrew the source: the existing copy must stay manageable.
    olds = {**clone_inputs, "source_ami_id": "ami-0123456789abcdef0"}
    news = {**olds}

    assert provider.check(olds, news).failures == []


def test_create_makes_an_available_clone(
    created: tuple[str, dict[str, Any]], ec2: Any
) -> None:
    image_id, outs = created

    image = describe(ec2(HOME_REGION), image_id)

    assert image["State"] == "available"
    assert image["Name"] == outs["name"]
    assert outs["image_id"] == image_id
    assert outs["region"] == HOME_REGION


def test_create_tags_image_and_snapshots(
    created: tuple[str, dict[str, Any]], ec2: Any, foundation_image_id: str
) -> None:
    image_id, outs = created

    tags = image_tags(ec2(HOME_REGION), image_id)
    snapshot = snapshot_tags(ec2(HOME_REGION), outs["snapshot_ids"][0])

    assert tags["source_image"] == foundation_image_id
    assert tags["team"] == "platform"
    assert snapshot == tags
    assert outs["lineage_tags"] == {
        key: tags[key]
        for key in ("source_image", "source_region", "create_date", "create_timestamp")
    }


def test_create_records_only_new_snapshots(
    created: tuple[str, dict[str, Any]], ec2: Any, foundation_image_id: str
) -> None:
    _image_id, outs = created
    source = describe(ec2(HOME_REGION), foundation_image_id)
    source_snapshot = source["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]

    assert source_snapshot not in outs["snapshot_ids"]


def test_read_without_drift_returns_the_state(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]]
) -> None:
    image_id, outs = created

    result = provider.read(image_id, outs)

    assert result.id == image_id
    assert result.outs == outs


def test_read_shows_tag_drift(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], ec2: Any
) -> None:
    image_id, outs = created
    ec2(HOME_REGION).create_tags(
        Resources=[image_id], Tags=[{"Key": "team", "Value": "x"}]
    )

    result = provider.read(image_id, outs)

    assert result.outs["tags"] == {"team": "x"}


def test_read_of_a_deregistered_image_returns_no_id(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], ec2: Any
) -> None:
    image_id, outs = created
    ec2(HOME_REGION).deregister_image(ImageId=image_id)

    assert provider.read(image_id, outs).id is None


def test_diff_without_changes(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created

    result = provider.diff(image_id, outs, clone_inputs)

    assert result.changes is False
    assert result.replaces == []


def test_diff_updates_tags_in_place(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created

    result = provider.diff(image_id, outs, {**clone_inputs, "tags": {"team": "apps"}})

    assert result.changes is True
    assert result.replaces == []


def test_diff_replaces_on_source_change(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created
    news = {**clone_inputs, "source_ami_id": "ami-0123456789abcdef0"}

    result = provider.diff(image_id, outs, news)

    assert result.replaces == ["source_ami_id"]
    assert result.delete_before_replace is False


def test_diff_ignores_a_new_generated_name(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created

    result = provider.diff(image_id, outs, {**clone_inputs, "name": "AMI-1-2"})

    assert result.changes is False


def test_diff_replaces_on_explicit_name(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created
    news = {**clone_inputs, "name": "chosen-name", "name_generated": False}

    result = provider.diff(image_id, outs, news)

    assert result.replaces == ["name"]
    assert result.delete_before_replace is False


def test_diff_replaces_on_name_prefix(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created

    result = provider.diff(
        image_id, outs, {**clone_inputs, "random_name_prefix": "new"}
    )

    assert result.replaces == ["random_name_prefix"]


@pytest.mark.parametrize(
    ("key", "value"), [("encrypted", True), ("kms_key_id", "alias/images")]
)
def test_diff_replaces_on_encryption(
    provider: ImageCopyProvider,
    created: tuple[str, dict[str, Any]],
    clone_inputs: dict,
    key: str,
    value: Any,
) -> None:
    image_id, outs = created

    result = provider.diff(image_id, outs, {**clone_inputs, key: value})

    assert result.replaces == [key]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("description", "new words"),
        ("wait_timeout_minutes", 90),
        ("profile", "other"),
        ("allow_delete_with_descendants", True),
    ],
)
def test_diff_updates_in_place(
    provider: ImageCopyProvider,
    created: tuple[str, dict[str, Any]],
    clone_inputs: dict,
    key: str,
    value: Any,
) -> None:
    image_id, outs = created

    result = provider.diff(image_id, outs, {**clone_inputs, key: value})

    assert result.changes is True
    assert result.replaces == []


def test_diff_deletes_first_when_an_explicit_name_stays(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created
    olds = {**outs, "name": "fixed-name", "name_generated": False}
    news = {
        **clone_inputs,
        "name": "fixed-name",
        "name_generated": False,
        "source_ami_id": "ami-0123456789abcdef0",
    }

    result = provider.diff(image_id, olds, news)

    assert result.replaces == ["source_ami_id"]
    assert result.delete_before_replace is True


def test_diff_region_move_creates_first(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], clone_inputs: dict
) -> None:
    image_id, outs = created
    olds = {**outs, "name": "fixed-name", "name_generated": False}
    news = {
        **clone_inputs,
        "name": "fixed-name",
        "name_generated": False,
        "region": "eu-west-1",
    }

    result = provider.diff(image_id, olds, news)

    assert result.replaces == ["region"]
    assert result.delete_before_replace is False


def test_read_warns_about_snapshots_of_a_vanished_image(
    provider: ImageCopyProvider,
    created: tuple[str, dict[str, Any]],
    ec2: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    image_id, outs = created
    ec2(HOME_REGION).deregister_image(ImageId=image_id)

    with caplog.at_level("WARNING", logger="amitools_pulumi.progress"):
        result = provider.read(image_id, outs)

    assert result.id is None
    assert f"snapshots {outs['snapshot_ids'][0]} remain" in caplog.text


def test_update_changes_user_tags_and_keeps_lineage(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], ec2: Any
) -> None:
    image_id, outs = created
    news = {**outs, "tags": {"owner": "images"}}

    result = provider.update(image_id, outs, news)
    tags = image_tags(ec2(HOME_REGION), image_id)
    snapshot = snapshot_tags(ec2(HOME_REGION), outs["snapshot_ids"][0])

    assert result.outs["tags"] == {"owner": "images"}
    assert "team" not in tags
    assert tags["owner"] == "images"
    assert tags["source_image"] == outs["source_ami_id"]
    assert snapshot["owner"] == "images"


def test_delete_removes_image_and_its_snapshots(
    provider: ImageCopyProvider,
    clone_inputs: dict[str, Any],
    ec2: Any,
    foundation_image_id: str,
) -> None:
    result = provider.create(clone_inputs)

    provider.delete(result.id, result.outs)

    assert result.id not in own_image_ids(ec2(HOME_REGION))
    assert not snapshot_exists(ec2(HOME_REGION), result.outs["snapshot_ids"][0])
    assert describe(ec2(HOME_REGION), foundation_image_id)["State"] == "available"


def test_delete_of_a_deleted_image_succeeds(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any], ec2: Any
) -> None:
    result = provider.create(clone_inputs)
    provider.delete(result.id, result.outs)

    provider.delete(result.id, result.outs)

    assert result.id not in own_image_ids(ec2(HOME_REGION))


def test_failed_copy_leaves_nothing_behind(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any], ec2: Any
) -> None:
    # moto makes every copy available at once; real copies can end `failed`.
    # This hook rewrites the state that the provider's client reads back.
    def report_failed(parsed: dict[str, Any], **_: Any) -> None:
        for image in parsed.get("Images", []):
            if image.get("OwnerId") == "123456789012":
                image["State"] = "failed"
                image["StateReason"] = {"Code": "Failed", "Message": "emulated failure"}

    client = aws.ec2_client(HOME_REGION)
    before = own_image_ids(ec2(HOME_REGION))
    client.meta.events.register("after-call.ec2.DescribeImages", report_failed)
    try:
        with pytest.raises(CopyFailedError, match="emulated failure"):
            provider.create(clone_inputs)
    finally:
        client.meta.events.unregister("after-call.ec2.DescribeImages", report_failed)

    assert own_image_ids(ec2(HOME_REGION)) == before


@pytest.mark.parametrize(
    ("news", "field", "fragment"),
    [
        ({"kms_key_id": "alias/images"}, "kms_key_id", "but encrypted is not true"),
        (
            {"encrypted": True, "kms_key_id": "not a key"},
            "kms_key_id",
            "is not a KMS key id",
        ),
        ({"encrypted": "yes"}, "encrypted", "is not a boolean"),
        ({"wait_timeout_minutes": 0}, "wait_timeout_minutes", "is out of range"),
        ({"wait_timeout_minutes": 2881}, "wait_timeout_minutes", "is out of range"),
        (
            {"allow_delete_with_descendants": "no"},
            "allow_delete_with_descendants",
            "boolean",
        ),
        (
            {"tags": {"amitools-pulumi:copy-token": "x"}},
            "tags",
            "that the resource manages",
        ),
    ],
)
def test_check_rejects_option(
    provider: ImageCopyProvider,
    foundation_image_id: str,
    news: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    base = {
        "source_ami_id": foundation_image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
    }

    failures = failures_of(provider, {**base, **news})

    assert fragment in failures[field]


@pytest.mark.parametrize(
    "key_id",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/ami-copies",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-1:123456789012:alias/ami-copies",
    ],
)
def test_check_accepts_kms_key_forms(
    provider: ImageCopyProvider, foundation_image_id: str, key_id: str
) -> None:
    news = {
        "source_ami_id": foundation_image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
        "encrypted": True,
        "kms_key_id": key_id,
    }

    assert failures_of(provider, news) == {}


def test_check_rejects_a_taken_explicit_name(
    provider: ImageCopyProvider,
    created: tuple[str, dict[str, Any]],
    foundation_image_id: str,
) -> None:
    _image_id, outs = created
    news = {
        "source_ami_id": foundation_image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
        "name": outs["name"],
        "resource_key": "project/stack/ClonedAmi/another",
    }

    failures = failures_of(provider, news)

    assert f"name {outs['name']!r} is already used by image" in failures["name"]


def test_check_lets_a_replacement_keep_its_name(
    provider: ImageCopyProvider,
    created: tuple[str, dict[str, Any]],
    foundation_image_id: str,
) -> None:
    # Pulumi checks a replacement without old inputs; the name is its own.
    _image_id, outs = created
    news = {
        "source_ami_id": foundation_image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
        "name": outs["name"],
        "encrypted": True,
        "resource_key": outs["resource_key"],
    }

    failures = failures_of(provider, news)

    assert "name" not in failures


def test_check_rejects_a_pending_source(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]]
) -> None:
    image_id, _outs = created
    moto_image(HOME_REGION, image_id).state = "pending"
    news = {
        "source_ami_id": image_id,
        "source_region": HOME_REGION,
        "region": HOME_REGION,
    }

    try:
        failures = failures_of(provider, news)
    finally:
        moto_image(HOME_REGION, image_id).state = "available"

    assert "is pending, not available" in failures["source_ami_id"]


def test_create_resumes_an_unfinished_copy(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any], ec2: Any
) -> None:
    inputs = {**clone_inputs, "resource_key": "project/stack/type/resumed"}
    first = provider.create(inputs)
    # An interrupted create leaves the in-progress token value behind.
    token = image_tags(ec2(HOME_REGION), first.id)[TOKEN_TAG]
    ec2(HOME_REGION).create_tags(
        Resources=[first.id],
        Tags=[{"Key": TOKEN_TAG, "Value": COPYING_PREFIX + token}],
    )
    before = own_image_ids(ec2(HOME_REGION))

    # A retry after an interruption checks again and gets a new generated name.
    retry = provider.create({**inputs, "name": "AMI-1-2"})
    after = own_image_ids(ec2(HOME_REGION))
    finished = image_tags(ec2(HOME_REGION), first.id)[TOKEN_TAG]
    provider.delete(first.id, first.outs)

    assert retry.id == first.id
    assert after == before
    assert retry.outs["lineage_tags"] == first.outs["lineage_tags"]
    assert finished == token


def test_create_never_takes_over_a_finished_copy(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any], ec2: Any
) -> None:
    # A forced replacement creates with the same inputs, so the same token.
    inputs = {**clone_inputs, "resource_key": "project/stack/type/replaced"}
    original = provider.create(inputs)

    replacement = provider.create({**inputs, "name": "AMI-1-3"})
    provider.delete(original.id, original.outs)
    remaining = own_image_ids(ec2(HOME_REGION))
    provider.delete(replacement.id, replacement.outs)

    assert replacement.id != original.id
    assert replacement.id in remaining
    assert original.id not in remaining


def test_copy_image_client_token_unique(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any]
) -> None:
    inputs = {**clone_inputs, "resource_key": "project/stack/type/tokens"}
    client = aws.ec2_client(HOME_REGION)
    sent: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["ClientToken"])

    client.meta.events.register("before-parameter-build.ec2.CopyImage", record)
    try:
        first = provider.create(inputs)
        provider.delete(first.id, first.outs)
        second = provider.create(inputs)
        provider.delete(second.id, second.outs)
    finally:
        client.meta.events.unregister("before-parameter-build.ec2.CopyImage", record)

    assert len(sent) == 2
    assert sent[0] != sent[1]


def test_read_reports_lineage_tag_drift(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], ec2: Any
) -> None:
    image_id, outs = created
    ec2(HOME_REGION).create_tags(
        Resources=[image_id], Tags=[{"Key": "source_image", "Value": "ami-00000000"}]
    )

    result = provider.read(image_id, outs)

    assert result.outs["lineage_tag_drift"] == {"source_image": "ami-00000000"}
    assert result.inputs["lineage_tag_drift"] == {"source_image": "ami-00000000"}
    assert result.outs["lineage_tags"] == outs["lineage_tags"]


def test_update_writes_drifted_lineage_tags_back(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], ec2: Any
) -> None:
    image_id, outs = created
    ec2(HOME_REGION).delete_tags(Resources=[image_id], Tags=[{"Key": "create_date"}])
    refreshed = provider.read(image_id, outs).outs

    result = provider.update(image_id, refreshed, {**outs, "lineage_tag_drift": {}})
    tags = image_tags(ec2(HOME_REGION), image_id)

    assert refreshed["lineage_tag_drift"] == {"create_date": ""}
    assert tags["create_date"] == outs["lineage_tags"]["create_date"]
    assert result.outs["lineage_tag_drift"] == {}


def test_read_adopts_a_tagged_image_on_import(
    provider: ImageCopyProvider,
    created: tuple[str, dict[str, Any]],
    clone_inputs: dict[str, Any],
    foundation_image_id: str,
) -> None:
    image_id, outs = created

    result = provider.read(image_id, clone_inputs)

    assert result.id == image_id
    assert result.outs["image_id"] == image_id
    assert result.outs["name"] == outs["name"]
    assert result.outs["source_ami_id"] == foundation_image_id
    assert result.outs["snapshot_ids"] == outs["snapshot_ids"]
    assert result.outs["lineage_tags"] == outs["lineage_tags"]


def test_read_rejects_import_of_an_untagged_image(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any], ec2: Any
) -> None:
    client = ec2(HOME_REGION)
    untagged = client.copy_image(
        SourceImageId=clone_inputs["source_ami_id"],
        SourceRegion=HOME_REGION,
        Name="untagged",
    )["ImageId"]

    try:
        with pytest.raises(
            MissingLineageTagsError, match="has no amitools lineage tags"
        ):
            provider.read(untagged, clone_inputs)
    finally:
        client.deregister_image(ImageId=untagged)


def test_delete_refuses_while_descendants_exist(
    provider: ImageCopyProvider, created: tuple[str, dict[str, Any]], ec2: Any
) -> None:
    image_id, outs = created
    client = ec2(HOME_REGION)
    child = client.copy_image(
        SourceImageId=image_id, SourceRegion=HOME_REGION, Name="child-of-clone"
    )["ImageId"]
    client.create_tags(
        Resources=[child],
        Tags=[
            {"Key": "source_image", "Value": image_id},
            {"Key": "source_region", "Value": HOME_REGION},
        ],
    )

    try:
        with pytest.raises(DescendantsExistError) as raised:
            provider.delete(image_id, outs)
    finally:
        client.deregister_image(ImageId=child)

    assert f"{child} (us-east-1, child-of-clone)" in str(raised.value)
    assert "allow_delete_with_descendants=True" in str(raised.value)
    assert describe(client, image_id)["State"] == "available"


def test_delete_with_descendants_when_allowed(
    provider: ImageCopyProvider, clone_inputs: dict[str, Any], ec2: Any
) -> None:
    created = provider.create({**clone_inputs, "allow_delete_with_descendants": True})
    client = ec2(HOME_REGION)
    child = client.copy_image(
        SourceImageId=created.id, SourceRegion=HOME_REGION, Name="kept-child"
    )["ImageId"]
    client.create_tags(
        Resources=[child], Tags=[{"Key": "source_image", "Value": created.id}]
    )

    provider.delete(created.id, created.outs)
    remaining = own_image_ids(client)
    client.deregister_image(ImageId=child)

    assert created.id not in remaining
    assert child in remaining

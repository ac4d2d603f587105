"""The resource lifecycle under the real Pulumi CLI: update, replace, refresh,
import, encryption, slow and failed copies, interruption, retain, lineage guard."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from amitools_pulumi.tags import TOKEN_TAG, dict_to_tags, lineage_tags
from tests.conftest import HOME_REGION, PROGRAMS
from tests.helpers import describe, image_tags, own_image_ids, snapshot_exists
from tests.moto_faults import (
    ClientTokenEmulation,
    CopyControl,
    DescriptionEmulation,
    EncryptionEmulation,
)

pytestmark = pytest.mark.e2e

IMAGE_COPY = PROGRAMS / "image_copy"

# A second real catalog record, used as a new source in the replace test.
AMAZON = "137112412989"


def outputs_of(result: Any) -> dict[str, Any]:
    return {key: value.value for key, value in result.outputs.items()}


def clone_state(stack: auto.Stack) -> dict[str, Any]:
    """Return the outputs of the stack's image resource as stored in the state."""
    resources = stack.export_stack().deployment["resources"]
    return next(r for r in resources if r["type"].endswith("Ami"))["outputs"]


def set_config(stack: auto.Stack, **values: Any) -> None:
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        stack.set_config(key, auto.ConfigValue(text))


@pytest.fixture
def other_source(ec2: Any) -> str:
    images = ec2(HOME_REGION).describe_images(Owners=[AMAZON])["Images"]
    available = sorted(
        image["ImageId"] for image in images if image["State"] == "available"
    )
    assert available, "moto's catalog has no Amazon-owned image in us-east-1"
    return available[0]


@pytest.fixture
def clone_stack(make_stack: Any, foundation_image_id: str) -> auto.Stack:
    return make_stack(
        IMAGE_COPY,
        {"sourceAmiId": foundation_image_id, "tags": json.dumps({"team": "a"})},
    )


def test_tag_change_updates_in_place(clone_stack: auto.Stack, ec2: Any) -> None:
    first = outputs_of(clone_stack.up())
    set_config(clone_stack, tags={"team": "b"})

    result = clone_stack.up()
    second = outputs_of(result)

    assert result.summary.resource_changes == {"update": 1, "same": 1}
    assert second["image_id"] == first["image_id"]
    assert image_tags(ec2(HOME_REGION), first["image_id"])["team"] == "b"


def test_source_change_replaces(
    clone_stack: auto.Stack, ec2: Any, other_source: str
) -> None:
    first = outputs_of(clone_stack.up())
    set_config(clone_stack, sourceAmiId=other_source)

    result = clone_stack.up()
    second = outputs_of(result)

    assert result.summary.resource_changes == {"replace": 1, "same": 1}
    assert second["image_id"] != first["image_id"]
    assert first["image_id"] not in own_image_ids(ec2(HOME_REGION))
    assert not snapshot_exists(ec2(HOME_REGION), first["snapshot_ids"][0])
    assert (
        image_tags(ec2(HOME_REGION), second["image_id"])["source_image"] == other_source
    )


def image_urn(stack: auto.Stack) -> str:
    resources = stack.export_stack().deployment["resources"]
    return next(r["urn"] for r in resources if r["type"].endswith("Ami"))


@pytest.mark.parametrize("how", ["replace-option", "name-prefix"])
def test_replacement_makes_a_new_copy(
    clone_stack: auto.Stack, ec2: Any, how: str
) -> None:
    first = outputs_of(clone_stack.up())
    if how == "replace-option":
        result = clone_stack.up(replace=[image_urn(clone_stack)])
    else:
        set_config(clone_stack, randomNamePrefix="REBUILT")
        result = clone_stack.up()
    second = outputs_of(result)

    assert result.summary.resource_changes == {"replace": 1, "same": 1}
    assert second["image_id"] != first["image_id"]
    assert describe(ec2(HOME_REGION), second["image_id"]) is not None
    assert describe(ec2(HOME_REGION), first["image_id"]) is None


def test_replacement_keeps_an_explicit_name(
    make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    stack = make_stack(
        IMAGE_COPY, {"sourceAmiId": foundation_image_id, "name": "kept-name-image"}
    )
    first = outputs_of(stack.up())

    result = stack.up(replace=[image_urn(stack)])
    second = outputs_of(result)

    assert result.summary.resource_changes == {"replace": 1, "same": 1}
    assert second["image_id"] != first["image_id"]
    assert describe(ec2(HOME_REGION), second["image_id"])["Name"] == "kept-name-image"
    assert describe(ec2(HOME_REGION), first["image_id"]) is None


def test_replacing_an_adopted_image_is_rejected(
    make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    client = ec2(HOME_REGION)
    existing = client.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="adopted-once"
    )["ImageId"]
    client.create_tags(
        Resources=[existing],
        Tags=dict_to_tags(lineage_tags(foundation_image_id, HOME_REGION, _moment())),
    )
    stack = make_stack(
        IMAGE_COPY, {"sourceAmiId": foundation_image_id, "adoptImageId": existing}
    )
    stack.up()

    with pytest.raises(auto.errors.CommandError) as raised:
        stack.up(replace=[image_urn(stack)])

    assert f"adopt_image_id {existing} is the image this resource already" in str(
        raised.value
    )
    assert describe(client, existing)["State"] == "available"


def test_up_after_destroy_makes_a_new_copy(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = ClientTokenEmulation(monkeypatch)
    first = outputs_of(clone_stack.up())
    clone_stack.destroy()

    second = outputs_of(clone_stack.up())

    assert tokens.reused == 0
    assert second["image_id"] != first["image_id"]
    assert describe(ec2(HOME_REGION), second["image_id"])["State"] == "available"
    assert describe(ec2(HOME_REGION), first["image_id"]) is None


def test_refresh_drops_an_image_deregistered_out_of_band(
    clone_stack: auto.Stack, ec2: Any
) -> None:
    first = outputs_of(clone_stack.up())
    ec2(HOME_REGION).deregister_image(ImageId=first["image_id"])

    result = clone_stack.refresh()
    types = [r["type"] for r in clone_stack.export_stack().deployment["resources"]]

    assert result.summary.resource_changes == {"delete": 1, "same": 1}
    assert not any(t.endswith(":ClonedAmi") for t in types)


def test_refresh_shows_tag_drift_and_up_restores(
    clone_stack: auto.Stack, ec2: Any
) -> None:
    first = outputs_of(clone_stack.up())
    client = ec2(HOME_REGION)
    client.create_tags(
        Resources=[first["image_id"]], Tags=[{"Key": "team", "Value": "x"}]
    )

    refreshed = clone_stack.refresh()
    preview = clone_stack.preview(diff=True)
    restored = clone_stack.up()

    assert refreshed.summary.resource_changes == {"update": 1, "same": 1}
    assert preview.change_summary == {"update": 1, "same": 1}
    assert restored.summary.resource_changes == {"update": 1, "same": 1}
    assert image_tags(client, first["image_id"])["team"] == "a"


def test_lineage_tag_edit_is_restored(clone_stack: auto.Stack, ec2: Any) -> None:
    first = outputs_of(clone_stack.up())
    client = ec2(HOME_REGION)
    client.create_tags(
        Resources=[first["image_id"]],
        Tags=[{"Key": "source_image", "Value": "ami-00000000"}],
    )

    refreshed = clone_stack.refresh()
    drift = clone_state(clone_stack)["lineage_tag_drift"]
    restored = clone_stack.up()
    restored_tags = image_tags(client, first["image_id"])

    assert refreshed.summary.resource_changes == {"update": 1, "same": 1}
    assert drift == {"source_image": "ami-00000000"}
    assert restored.summary.resource_changes == {"update": 1, "same": 1}
    assert restored_tags["source_image"] == first["source_ami_id"]
    assert clone_state(clone_stack)["lineage_tag_drift"] == {}


def test_deleted_lineage_tag_is_restored(clone_stack: auto.Stack, ec2: Any) -> None:
    first = outputs_of(clone_stack.up())
    client = ec2(HOME_REGION)
    client.delete_tags(Resources=[first["image_id"]], Tags=[{"Key": "source_image"}])

    clone_stack.refresh()
    clone_stack.up()

    assert (
        image_tags(client, first["image_id"])["source_image"] == first["source_ami_id"]
    )
    assert clone_state(clone_stack)["lineage_tags"] == first["lineage_tags"]


def test_adopt_image_id_takes_over_a_tagged_image(
    make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    client = ec2(HOME_REGION)
    existing = client.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="made-by-hand"
    )["ImageId"]
    tags = lineage_tags(foundation_image_id, HOME_REGION, _moment())
    client.create_tags(Resources=[existing], Tags=dict_to_tags(tags))
    before = own_image_ids(client)
    stack = make_stack(
        IMAGE_COPY,
        {
            "sourceAmiId": foundation_image_id,
            "tags": json.dumps({"team": "a"}),
            "adoptImageId": existing,
        },
    )

    result = stack.up()
    outputs = outputs_of(result)
    second = stack.preview()

    assert result.summary.resource_changes == {"create": 2}
    assert own_image_ids(client) == before
    assert outputs["image_id"] == existing
    assert outputs["name"] == "made-by-hand"
    assert outputs["lineage_tags"] == tags
    assert image_tags(client, existing)["team"] == "a"
    assert second.change_summary == {"same": 2}


def test_adopting_an_untagged_image_says_why(
    make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    client = ec2(HOME_REGION)
    untagged = client.copy_image(
        SourceImageId=foundation_image_id,
        SourceRegion=HOME_REGION,
        Name="untagged-adopt",
    )["ImageId"]
    stack = make_stack(
        IMAGE_COPY, {"sourceAmiId": foundation_image_id, "adoptImageId": untagged}
    )

    with pytest.raises(auto.errors.CommandError) as raised:
        stack.preview()
    client.deregister_image(ImageId=untagged)

    assert f"adopt_image_id {untagged} has no amitools lineage tags" in str(
        raised.value
    )


def test_adopting_a_managed_copy_is_rejected(
    clone_stack: auto.Stack, make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    managed = outputs_of(clone_stack.up())["image_id"]
    before = own_image_ids(ec2(HOME_REGION))
    stack = make_stack(
        IMAGE_COPY, {"sourceAmiId": foundation_image_id, "adoptImageId": managed}
    )

    with pytest.raises(auto.errors.CommandError) as raised:
        stack.preview()

    assert f"adopt_image_id {managed} was made by an amitools_pulumi resource" in str(
        raised.value
    )
    assert own_image_ids(ec2(HOME_REGION)) == before


def test_description_change_updates_in_place(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    DescriptionEmulation(monkeypatch)
    first = outputs_of(clone_stack.up())
    set_config(clone_stack, description="our base image")

    result = clone_stack.up()
    refreshed = clone_stack.refresh()

    assert result.summary.resource_changes == {"update": 1, "same": 1}
    assert (
        describe(ec2(HOME_REGION), first["image_id"])["Description"] == "our base image"
    )
    assert refreshed.summary.resource_changes == {"same": 2}


def test_encrypted_copy(
    make_stack: Any, ec2: Any, foundation_image_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulation = EncryptionEmulation(monkeypatch)
    stack = make_stack(
        IMAGE_COPY,
        {
            "sourceAmiId": foundation_image_id,
            "encrypted": "true",
            "kmsKeyId": "alias/ami-copies",
        },
    )

    outputs = outputs_of(stack.up())
    snapshot = ec2(HOME_REGION).describe_snapshots(SnapshotIds=outputs["snapshot_ids"])[
        "Snapshots"
    ][0]

    assert emulation.requests[-1]["Encrypted"] in (True, "true")
    assert emulation.requests[-1]["KmsKeyId"] == "alias/ami-copies"
    assert outputs["snapshots_encrypted"] is True
    assert snapshot["Encrypted"] is True


def test_copy_of_an_encrypted_source_stays_encrypted(
    make_stack: Any, ec2: Any, foundation_image_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulation = EncryptionEmulation(monkeypatch)
    encrypted_source = make_stack(
        IMAGE_COPY,
        {"sourceAmiId": foundation_image_id, "encrypted": "true"},
    )
    source = outputs_of(encrypted_source.up())
    stack = make_stack(
        IMAGE_COPY,
        {
            "kind": "copy",
            "sourceAmiId": source["image_id"],
            "sourceRegion": HOME_REGION,
            "region": "eu-west-1",
        },
    )

    outputs = outputs_of(stack.up())
    stack.destroy()

    assert emulation.requests[-1]["Encrypted"] is None
    assert outputs["snapshots_encrypted"] is True


def test_failed_copy_reports_the_reason_and_leaves_nothing(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = CopyControl(monkeypatch)
    control.fail_with = "emulated snapshot failure"
    before = own_image_ids(ec2(HOME_REGION))

    with pytest.raises(auto.errors.CommandError) as raised:
        clone_stack.up()
    failed = control.copies[0]
    types = [r["type"] for r in clone_stack.export_stack().deployment["resources"]]

    assert f"image {failed.id} in us-east-1 ended in state failed" in str(raised.value)
    assert "emulated snapshot failure" in str(raised.value)
    assert own_image_ids(ec2(HOME_REGION)) == before
    assert not any(t.endswith(":ClonedAmi") for t in types)


def test_slow_copy_is_waited_for(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = CopyControl(monkeypatch)
    # Available only once the provider has polled the pending copy twice.
    control.release_after_polls = 3

    outputs = outputs_of(clone_stack.up())
    held = control.copies[0]

    assert outputs["image_id"] == held.id
    assert control.polls[held.id] >= 3
    assert describe(ec2(HOME_REGION), held.id)["State"] == "available"


def test_interrupted_create_then_up_makes_one_image(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = CopyControl(monkeypatch)
    errors: list[BaseException] = []

    def run_up() -> None:
        try:
            clone_stack.up()
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            errors.append(error)

    first_up = threading.Thread(target=run_up)
    first_up.start()
    assert control.polled.wait(timeout=120), "the provider never polled the copy"
    killed = kill_dynamic_providers()
    first_up.join(timeout=120)
    control.release()

    result = clone_stack.up()
    outputs = outputs_of(result)
    token = image_tags(ec2(HOME_REGION), outputs["image_id"])[TOKEN_TAG]
    same_token = ec2(HOME_REGION).describe_images(
        Owners=["self"], Filters=[{"Name": f"tag:{TOKEN_TAG}", "Values": [token]}]
    )["Images"]

    assert killed >= 1
    assert len(errors) == 1
    assert len(control.copies) == 1
    assert outputs["image_id"] == control.copies[0].id
    assert len(same_token) == 1


def test_destroy_with_retain_keeps_the_image(
    make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    stack = make_stack(
        IMAGE_COPY, {"sourceAmiId": foundation_image_id, "retainOnDelete": "true"}
    )
    outputs = outputs_of(stack.up())

    stack.destroy()
    image = describe(ec2(HOME_REGION), outputs["image_id"])
    ec2(HOME_REGION).deregister_image(ImageId=outputs["image_id"])

    assert image["State"] == "available"
    assert snapshot_exists(ec2(HOME_REGION), outputs["snapshot_ids"][0])


def test_destroy_refuses_while_descendants_exist(
    clone_stack: auto.Stack, ec2: Any
) -> None:
    outputs = outputs_of(clone_stack.up())
    child = _make_child(ec2, outputs["image_id"])

    with pytest.raises(auto.errors.CommandError) as raised:
        clone_stack.destroy()
    still_there = describe(ec2(HOME_REGION), outputs["image_id"])
    ec2(HOME_REGION).deregister_image(ImageId=child)
    clone_stack.destroy()

    assert f"still has images made from it: {child}" in str(raised.value)
    assert still_there["State"] == "available"
    assert outputs["image_id"] not in own_image_ids(ec2(HOME_REGION))


def test_destroy_with_descendants_when_allowed(
    make_stack: Any, ec2: Any, foundation_image_id: str
) -> None:
    stack = make_stack(
        IMAGE_COPY,
        {"sourceAmiId": foundation_image_id, "allowDeleteWithDescendants": "true"},
    )
    outputs = outputs_of(stack.up())
    child = _make_child(ec2, outputs["image_id"])

    result = stack.destroy()
    remaining = own_image_ids(ec2(HOME_REGION))
    ec2(HOME_REGION).deregister_image(ImageId=child)

    assert result.summary.resource_changes == {"delete": 2}
    assert outputs["image_id"] not in remaining
    assert child in remaining


def _make_child(ec2: Any, parent: str) -> str:
    client = ec2(HOME_REGION)
    child = client.copy_image(
        SourceImageId=parent, SourceRegion=HOME_REGION, Name=f"child-of-{parent}"
    )["ImageId"]
    tags = lineage_tags(parent, HOME_REGION, _moment())
    client.create_tags(Resources=[child], Tags=dict_to_tags(tags))
    return child


def _moment() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def descendant_processes(marker: bytes) -> list[int]:
    """Return the processes below this test process whose command has `marker`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))

    found = []
    pending = list(children.get(os.getpid(), []))
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(marker in part for part in command[:4]):
            found.append(pid)
    return found


def kill_dynamic_providers() -> int:
    """SIGKILL the dynamic-provider processes started below this test process."""
    pids = descendant_processes(b"pulumi.dynamic")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return len(pids)


def wait_for_exit(pids: list[int], seconds: float) -> list[int]:
    """Wait up to `seconds` for `pids` to end; return those still running."""
    deadline = time.monotonic() + seconds
    running = list(pids)
    while running and time.monotonic() < deadline:
        time.sleep(0.5)
        running = [pid for pid in running if Path(f"/proc/{pid}").exists()]
    return running


def test_provider_exits_when_the_cli_is_killed(
    clone_stack: auto.Stack, ec2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = CopyControl(monkeypatch)
    before = own_image_ids(ec2(HOME_REGION))

    first_up = threading.Thread(target=lambda: _up_ignoring_errors(clone_stack))
    first_up.start()
    assert control.polled.wait(timeout=120), "the provider never polled the copy"
    providers = descendant_processes(b"pulumi.dynamic")
    for pid in descendant_processes(b"/bin/pulumi"):
        os.kill(pid, signal.SIGKILL)
    still_running = wait_for_exit(providers, 60)
    first_up.join(timeout=120)
    control.release()
    # The killed CLI left the stack locked, as it would for a user.
    clone_stack.cancel()
    result = clone_stack.up()
    image_id = outputs_of(result)["image_id"]

    assert providers
    assert still_running == []
    assert len(control.copies) == 1
    assert image_id == control.copies[0].id
    assert own_image_ids(ec2(HOME_REGION)) - before == {image_id}


def _up_ignoring_errors(stack: auto.Stack) -> None:
    try:
        stack.up()
    except auto.errors.CommandError:
        pass


def test_profile_from_stack_config_signs_the_calls(
    make_stack: Any,
    foundation_image_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[amitools-test]\n"
        "aws_access_key_id = AKIAPROFILETEST0001\n"
        "aws_secret_access_key = profile-secret\n"
    )
    signers = record_copy_signers(monkeypatch)
    stack = make_stack(
        IMAGE_COPY,
        {"sourceAmiId": foundation_image_id, "aws:profile": "amitools-test"},
        env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)},
    )

    stack.up()

    assert signers == ["AKIAPROFILETEST0001"]
    assert clone_state(stack)["profile"] == "amitools-test"


def record_copy_signers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the access key that signed each CopyImage request moto serves."""
    from moto.ec2.responses.amis import AmisResponse

    signers: list[str] = []
    original = AmisResponse.copy_image

    def copy_image(response: Any) -> Any:
        authorization = response.headers.get("Authorization", "")
        signers.append(authorization.split("Credential=")[1].split("/")[0])
        return original(response)

    monkeypatch.setattr(AmisResponse, "copy_image", copy_image)
    return signers


@pytest.mark.parametrize(
    "change",
    [{}, {"tags": {"team": "b"}}, {"sourceAmiId": "OTHER"}],
    ids=["nothing", "update", "replace"],
)
def test_preview_predicts_the_following_up(
    clone_stack: auto.Stack, other_source: str, change: dict[str, Any]
) -> None:
    clone_stack.up()
    set_config(
        clone_stack,
        **{
            key: other_source if value == "OTHER" else value
            for key, value in change.items()
        },
    )

    planned: list[Any] = []
    applied: list[Any] = []

    preview = clone_stack.preview(diff=True, on_event=planned.append)
    result = clone_stack.up(on_event=applied.append)

    assert preview.change_summary == result.summary.resource_changes
    assert steps_of(planned) == steps_of(applied)


def steps_of(events: list[Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return each step the engine announced: resource, operation, and the keys
    that force a replacement (a dynamic provider reports no other changed keys).
    """
    steps = []
    for event in events:
        if event.resource_pre_event is None:
            continue
        step = event.resource_pre_event.metadata
        steps.append((step.urn, step.op.value, tuple(sorted(step.keys or []))))
    return sorted(steps)

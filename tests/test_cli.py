"""The `amitools` command against the moto server: formats, tagging, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amitools_pulumi.cli import main
from amitools_pulumi.tags import dict_to_tags, lineage_tags, tags_to_dict
from tests.conftest import COPY_REGION, HOME_REGION
from tests.test_lineage import MOMENT


@pytest.fixture
def family(ec2: Any, foundation_image_id: str) -> Iterator[dict[str, str]]:
    """A clone in us-east-1, its copy in eu-west-1, and an untagged image."""
    home, away = ec2(HOME_REGION), ec2(COPY_REGION)
    clone = home.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="cli-clone"
    )["ImageId"]
    home.create_tags(
        Resources=[clone],
        Tags=dict_to_tags(lineage_tags(foundation_image_id, HOME_REGION, MOMENT)),
    )
    copy = away.copy_image(
        SourceImageId=clone, SourceRegion=HOME_REGION, Name="cli-copy"
    )["ImageId"]
    away.create_tags(
        Resources=[copy], Tags=dict_to_tags(lineage_tags(clone, HOME_REGION, MOMENT))
    )
    bare = home.copy_image(
        SourceImageId=foundation_image_id, SourceRegion=HOME_REGION, Name="cli-bare"
    )["ImageId"]
    yield {"clone": clone, "copy": copy, "bare": bare}
    home.deregister_image(ImageId=clone)
    home.deregister_image(ImageId=bare)
    away.deregister_image(ImageId=copy)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_children_table(capsys: Any, family: dict[str, str]) -> None:
    code, out, _err = run(
        capsys,
        "children",
        family["clone"],
        "--region",
        HOME_REGION,
        "--regions",
        f"{HOME_REGION},{COPY_REGION}",
    )
    header, row = out.splitlines()

    assert code == 0
    assert header.split()[:4] == ["DEPTH", "IMAGE", "REGION", "CREATED"]
    assert row.split()[:5] == [
        "1",
        family["copy"],
        COPY_REGION,
        "20260102T030405Z",
        "tag",
    ]


def test_children_json(capsys: Any, family: dict[str, str]) -> None:
    code, out, _err = run(
        capsys,
        "children",
        family["clone"],
        "--region",
        HOME_REGION,
        "--regions",
        f"{HOME_REGION},{COPY_REGION}",
        "--format",
        "json",
    )
    document = json.loads(out)

    assert code == 0
    assert document["direction"] == "children"
    assert [node["image_id"] for node in document["nodes"]] == [family["copy"]]
    assert document["region_errors"] == {}


def test_ancestors_tree(
    capsys: Any, family: dict[str, str], foundation_image_id: str
) -> None:
    code, out, _err = run(
        capsys, "ancestors", family["copy"], "--region", COPY_REGION, "--format", "tree"
    )
    lines = out.splitlines()

    assert code == 0
    assert lines[0] == f"{family['copy']}  ({COPY_REGION}, queried image)"
    assert lines[1].split()[:2] == ["↑", family["clone"]]
    assert lines[2].split()[:2] == ["↑", foundation_image_id]


def test_mermaid_clusters_regions(capsys: Any, family: dict[str, str]) -> None:
    code, out, _err = run(
        capsys,
        "children",
        family["clone"],
        "--region",
        HOME_REGION,
        "--regions",
        f"{HOME_REGION},{COPY_REGION}",
        "--format",
        "mermaid",
    )
    clone_node = family["clone"].replace("-", "_")
    copy_node = family["copy"].replace("-", "_")

    assert code == 0
    assert out.splitlines()[0] == "graph TD"
    assert '  subgraph eu_west_1["eu-west-1"]' in out
    assert '  subgraph us_east_1["us-east-1"]' in out
    assert f"  {clone_node} --> {copy_node}" in out


def test_dot_clusters_regions(capsys: Any, family: dict[str, str]) -> None:
    code, out, _err = run(
        capsys,
        "children",
        family["clone"],
        "--region",
        HOME_REGION,
        "--regions",
        f"{HOME_REGION},{COPY_REGION}",
        "--format",
        "dot",
    )

    assert code == 0
    assert out.startswith("digraph lineage {")
    assert 'subgraph "cluster_eu-west-1" {' in out
    assert f'"{family["clone"]}" -> "{family["copy"]}";' in out


def test_no_children_exits_one(capsys: Any, family: dict[str, str]) -> None:
    code, out, _err = run(
        capsys,
        "children",
        family["bare"],
        "--region",
        HOME_REGION,
        "--regions",
        HOME_REGION,
    )

    assert code == 1
    assert out.splitlines()[0].startswith("DEPTH")


def test_missing_image_exits_one(capsys: Any, moto_endpoint: str) -> None:
    code, _out, err = run(
        capsys, "ancestors", "ami-0123456789abcdef0", "--region", HOME_REGION
    )

    assert code == 1
    assert "ami-0123456789abcdef0 was not found in region us-east-1" in err


def test_bad_image_id_exits_two(capsys: Any, moto_endpoint: str) -> None:
    code, _out, err = run(capsys, "children", "ami-nope", "--region", HOME_REGION)

    assert code == 2
    assert "image_id 'ami-nope' is not a valid image id" in err


def test_unknown_format_exits_two(capsys: Any) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["children", "ami-12345678", "--format", "svg"])

    assert raised.value.code == 2
    assert "invalid choice: 'svg'" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_two(capsys: Any) -> None:
    code = main([])

    assert code == 2
    assert "usage: amitools" in capsys.readouterr().err


def test_aws_error_exits_three(
    capsys: Any, family: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from amitools_pulumi import lineage

    def fail(*_: Any, **__: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}},
            "DescribeRegions",
        )

    monkeypatch.setattr(lineage, "enabled_regions", fail)
    code, _out, err = run(capsys, "children", family["clone"], "--region", HOME_REGION)

    assert code == 3
    assert "RequestLimitExceeded" in err


def test_tag_writes_lineage_tags(
    capsys: Any, family: dict[str, str], ec2: Any, foundation_image_id: str
) -> None:
    code, out, _err = run(
        capsys,
        "tag",
        family["bare"],
        "--region",
        HOME_REGION,
        "--source-image",
        foundation_image_id,
        "--source-instance",
        "i-0abc1234def567890",
        "--create-timestamp",
        "1796399915",
    )
    image = ec2(HOME_REGION).describe_images(ImageIds=[family["bare"]])["Images"][0]
    tags = tags_to_dict(image["Tags"])
    snapshot_id = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    snapshot = ec2(HOME_REGION).describe_snapshots(SnapshotIds=[snapshot_id])[
        "Snapshots"
    ][0]

    assert code == 0
    assert tags["create_date"] == "20261204T155835Z"
    assert tags["create_timestamp"] == "1796399915"
    assert tags["source_image"] == foundation_image_id
    assert tags["source_region"] == HOME_REGION
    assert tags["source_instance"] == "i-0abc1234def567890"
    assert tags_to_dict(snapshot["Tags"])["source_image"] == foundation_image_id
    assert "create_date=20261204T155835Z" in out.splitlines()


def test_tag_derives_timestamp_from_date(capsys: Any, family: dict[str, str]) -> None:
    code, out, _err = run(
        capsys,
        "tag",
        family["bare"],
        "--region",
        HOME_REGION,
        "--source-image",
        family["clone"],
        "--create-date",
        "20261204T155835Z",
        "--dry-run",
    )

    assert code == 0
    assert "create_timestamp=1796399915" in out.splitlines()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--create-date", "2026-12-04"], "is not in the form YYYYMMDDTHHMMSSZ"),
        (["--create-timestamp", "soon"], "is not whole epoch seconds"),
        (["--create-timestamp", "100"], "is before 2006 or in the future"),
        (
            ["--create-timestamp", "1796399915", "--source-instance", "vm-1"],
            "is not an instance id",
        ),
    ],
)
def test_tag_rejects_bad_values(
    capsys: Any, family: dict[str, str], extra: list[str], fragment: str
) -> None:
    code, _out, err = run(
        capsys,
        "tag",
        family["bare"],
        "--region",
        HOME_REGION,
        "--source-image",
        family["clone"],
        *extra,
    )

    assert code == 2
    assert fragment in err


def test_tag_needs_exactly_one_date(capsys: Any) -> None:
    with pytest.raises(SystemExit) as raised:
        main(
            [
                "tag",
                "ami-12345678",
                "--source-image",
                "ami-87654321",
                "--create-date",
                "20261204T155835Z",
                "--create-timestamp",
                "1796399915",
            ]
        )

    assert raised.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_console_script_is_installed(
    family: dict[str, str], moto_endpoint: str
) -> None:
    script = Path(sys.executable).parent / "amitools"

    result = subprocess.run(
        [
            str(script),
            "children",
            family["clone"],
            "--region",
            HOME_REGION,
            "--regions",
            COPY_REGION,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )

    assert result.returncode == 0
    assert json.loads(result.stdout)["nodes"][0]["image_id"] == family["copy"]


def test_bad_timestamp_tag_falls_back_to_creation_date(
    capsys: Any, family: dict[str, str], ec2: Any
) -> None:
    # Milliseconds instead of seconds, written by hand on a child of the clone.
    ec2(COPY_REGION).create_tags(
        Resources=[family["copy"]],
        Tags=[{"Key": "create_timestamp", "Value": "99999999999999"}],
    )

    code, out, _err = run(
        capsys,
        "children",
        family["clone"],
        "--region",
        HOME_REGION,
        "--regions",
        f"{HOME_REGION},{COPY_REGION}",
        "--format",
        "json",
    )
    (node,) = json.loads(out)["nodes"]

    assert code == 0
    assert node["image_id"] == family["copy"]
    assert node["create_timestamp"] < 99999999999999


def test_impossible_parent_region_ends_ancestors_with_a_gap(
    capsys: Any, family: dict[str, str], ec2: Any
) -> None:
    ec2(COPY_REGION).create_tags(
        Resources=[family["copy"]], Tags=[{"Key": "source_region", "Value": "moon"}]
    )

    code, out, _err = run(
        capsys, "ancestors", family["copy"], "--region", COPY_REGION, "--format", "json"
    )
    (node,) = json.loads(out)["nodes"]

    assert code == 0
    assert node["missing"] is True
    assert node["region"] == "moon"


def test_tree_marks_siblings(capsys: Any, family: dict[str, str], ec2: Any) -> None:
    away = ec2(COPY_REGION)
    sibling = away.copy_image(
        SourceImageId=family["clone"], SourceRegion=HOME_REGION, Name="cli-sibling"
    )["ImageId"]
    away.create_tags(
        Resources=[sibling],
        Tags=dict_to_tags(lineage_tags(family["clone"], HOME_REGION, MOMENT)),
    )

    code, out, _err = run(
        capsys,
        "children",
        family["clone"],
        "--region",
        HOME_REGION,
        "--regions",
        COPY_REGION,
        "--format",
        "tree",
    )
    away.deregister_image(ImageId=sibling)
    connectors = [line.split()[0] for line in out.splitlines()[1:]]

    assert code == 0
    assert connectors == ["├─", "└─"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--create-timestamp", "1735689600000"], "milliseconds are too many digits"),
        (
            ["--create-timestamp", "\u00b9\u2077\u00b3\u2075"],
            "is not whole epoch seconds",
        ),
        (
            ["--create-timestamp", "1796399915", "--source-image", "SELF"],
            "is the image itself",
        ),
    ],
    ids=["milliseconds", "superscript-digits", "own-parent"],
)
def test_tag_rejects_more_bad_values(
    capsys: Any, family: dict[str, str], argv: list[str], fragment: str
) -> None:
    argv = [family["bare"] if value == "SELF" else value for value in argv]
    if "--source-image" not in argv:
        argv += ["--source-image", family["clone"]]

    code, _out, err = run(capsys, "tag", family["bare"], "--region", HOME_REGION, *argv)

    assert code == 2
    assert fragment in err


def test_empty_regions_exits_two(capsys: Any, family: dict[str, str]) -> None:
    code, _out, err = run(
        capsys, "children", family["clone"], "--region", HOME_REGION, "--regions", ","
    )

    assert code == 2
    assert "regions is empty" in err

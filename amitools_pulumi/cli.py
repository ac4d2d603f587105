"""The `amitools` command: lineage queries and lineage tagging from a shell.

Exit codes: 0 when the query found images (or `tag` wrote its tags), 1 when
it found none, 2 for invalid usage or input, 3 for an AWS or other error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import botocore.exceptions

from amitools_pulumi import __version__
from amitools_pulumi.errors import (
    AmitoolsError,
    ImageNotFoundError,
    InvalidInputError,
    RegionNotFoundError,
)
from amitools_pulumi.lineage import find_ancestors, find_children
from amitools_pulumi.render import FORMATS, render
from amitools_pulumi.tagging import build_tags, tag_image

EXIT_FOUND = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_ERROR = 3

logger = logging.getLogger("amitools_pulumi.cli")


def _regions(text: str) -> list[str]:
    return [region.strip() for region in text.split(",") if region.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amitools",
        description="Query and record the lineage of AWS machine images.",
        epilog="Exit codes: 0 found or tagged, 1 none found, 2 invalid usage or "
        "input, 3 AWS or other error.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (repeat for debug)"
    )
    parser.add_argument(
        "-q", "--quiet", action="count", default=0, help="log only errors"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("image_id", help="id of the image, e.g. ami-0123456789abcdef0")
        sub.add_argument(
            "--region",
            help="region of the image (default: AWS_DEFAULT_REGION or the profile's)",
        )
        sub.add_argument("--profile", help="AWS profile (default: boto3's chain)")

    def output(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--format",
            choices=FORMATS,
            default="table",
            help="output format: table, json, tree, mermaid or dot (default: table)",
        )
        sub.add_argument(
            "--max-depth",
            type=int,
            metavar="N",
            help="stop after N generations (default: no limit)",
        )

    children = commands.add_parser(
        "children", help="list the descendants of an image, across regions"
    )
    common(children)
    output(children)
    children.add_argument(
        "--regions",
        type=_regions,
        metavar="R1,R2",
        help="comma-separated regions to search (default: every enabled region)",
    )
    children.add_argument(
        "--include-deregistered",
        action="store_true",
        help="also list deregistered and disabled images that EC2 still returns",
    )

    ancestors = commands.add_parser(
        "ancestors", help="list the parent, grandparent and older ancestors"
    )
    common(ancestors)
    output(ancestors)
    ancestors.add_argument(
        "--no-native",
        action="store_true",
        help="follow the amitools tags only, not EC2's GetImageAncestry",
    )

    tag = commands.add_parser(
        "tag", help="write the lineage tags on an existing image and its snapshots"
    )
    common(tag)
    tag.add_argument("--source-image", required=True, help="id of the parent image")
    tag.add_argument(
        "--source-region", help="region of the parent image (default: --region)"
    )
    tag.add_argument(
        "--source-instance", help="id of the instance the image was made from"
    )
    when = tag.add_mutually_exclusive_group(required=True)
    when.add_argument("--create-date", help="UTC creation time as YYYYMMDDTHHMMSSZ")
    when.add_argument("--create-timestamp", help="creation time in epoch seconds")
    tag.add_argument(
        "--dry-run", action="store_true", help="print the tags without writing them"
    )
    return parser


def _configure_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(logging.DEBUG, min(level, logging.ERROR)),
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _run(arguments: argparse.Namespace) -> int:
    if arguments.command == "tag":
        from amitools_pulumi import aws

        region = aws.resolve_region(arguments.region)
        if arguments.source_image == arguments.image_id:
            raise InvalidInputError(
                f"--source-image {arguments.source_image} is the image itself; name "
                "the image it was made from"
            )
        tags = build_tags(
            arguments.source_image,
            arguments.source_region or region,
            source_instance=arguments.source_instance,
            create_date=arguments.create_date,
            create_timestamp=arguments.create_timestamp,
        )
        if not arguments.dry_run:
            tag_image(arguments.image_id, region, tags, profile=arguments.profile)
        for key in sorted(tags):
            print(f"{key}={tags[key]}")
        return EXIT_FOUND

    if arguments.command == "children":
        lineage = find_children(
            arguments.image_id,
            arguments.region,
            regions=arguments.regions,
            max_depth=arguments.max_depth,
            profile=arguments.profile,
            include_deregistered=arguments.include_deregistered,
        )
    else:
        lineage = find_ancestors(
            arguments.image_id,
            arguments.region,
            max_depth=arguments.max_depth,
            profile=arguments.profile,
            use_native_ancestry=not arguments.no_native,
        )
    print(render(lineage, arguments.format))
    return EXIT_FOUND if lineage.nodes else EXIT_NOT_FOUND


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line in `argv` (default: sys.argv) and return the exit code."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _configure_logging(arguments.verbose, arguments.quiet)

    try:
        return _run(arguments)
    except InvalidInputError as error:
        print(f"amitools: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RegionNotFoundError:
        print(
            "amitools: no AWS region given: pass --region, or set "
            "AWS_DEFAULT_REGION or a region in the profile",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except botocore.exceptions.ProfileNotFound as error:
        print(f"amitools: {error}; check --profile and AWS_PROFILE", file=sys.stderr)
        return EXIT_USAGE
    except ImageNotFoundError as error:
        print(f"amitools: {error}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except (AmitoolsError, botocore.exceptions.BotoCoreError) as error:
        print(f"amitools: {error}", file=sys.stderr)
        return EXIT_ERROR
    except botocore.exceptions.ClientError as error:
        print(f"amitools: AWS error: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

"""The dynamic provider behind ClonedAmi and CopiedAmi.

Pulumi pickles the provider object into the stack state. This class lives in an
importable module and keeps no attributes, so the pickle is a short reference
to `amitools_pulumi.provider.ImageCopyProvider`, with no client, session,
credential or code object in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime import rpc

from amitools_pulumi import images, validation
from amitools_pulumi.errors import SourceImageNotFoundError
from amitools_pulumi.naming import DEFAULT_NAME_PREFIX, generate_image_name
from amitools_pulumi.tags import LINEAGE_TAG_KEYS

# Changing one of these makes a new image; the others are updated in place.
REPLACE_KEYS = (
    "source_ami_id",
    "source_region",
    "region",
    "name",
    "random_name_prefix",
)
UPDATE_KEYS = ("description", "tags")

INPUT_KEYS = (
    "source_ami_id",
    "source_region",
    "region",
    "name",
    "name_generated",
    "random_name_prefix",
    "description",
    "tags",
)


def _is_unknown(value: Any) -> bool:
    """Tell whether a value, or anything inside it, is not known until apply."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return True
    if isinstance(value, Mapping):
        return any(_is_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_is_unknown(item) for item in value)
    return False


def _known(value: Any) -> bool:
    return value is not None and not _is_unknown(value)


class ImageCopyProvider(ResourceProvider):
    """Create, read, update and delete one image copy with lineage tags."""

    # The provider holds no secret, so the state may show it in clear text.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _olds or {}
        failures: list[CheckFailure] = []

        def fail(field: str, problem: str | None) -> None:
            if problem is not None:
                failures.append(CheckFailure(field, problem))

        source = news.get("source_ami_id")
        if not _is_unknown(source):
            fail("source_ami_id", validation.check_image_id("source_ami_id", source))
        for field in ("source_region", "region"):
            if not _is_unknown(news.get(field)):
                fail(field, validation.check_region(field, news.get(field)))

        prefix = news.get("random_name_prefix") or DEFAULT_NAME_PREFIX
        if not _is_unknown(prefix):
            fail(
                "random_name_prefix",
                validation.check_name_prefix("random_name_prefix", prefix),
            )
        name = news.get("name")
        name_generated = not name
        if _known(name):
            fail("name", validation.check_image_name("name", name))
        elif name_generated:
            name = self._stable_name(olds, news, prefix)

        description = news.get("description")
        if _known(description):
            fail(
                "description", validation.check_description("description", description)
            )
        tags = news.get("tags") or {}
        if not _is_unknown(tags):
            for problem in validation.check_tags("tags", tags):
                fail("tags", problem)

        inputs = {
            "source_ami_id": source,
            "source_region": news.get("source_region"),
            "region": news.get("region"),
            "name": name,
            "name_generated": name_generated,
            "random_name_prefix": prefix,
            "description": description,
            "tags": tags,
        }
        if not failures and self._source_changed(olds, inputs):
            fail("source_ami_id", self._check_source_exists(inputs))
        return CheckResult(inputs, failures)

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> DiffResult:
        replaces = [
            key for key in REPLACE_KEYS if _differs(_olds.get(key), _news.get(key))
        ]
        updates = [
            key for key in UPDATE_KEYS if _differs(_olds.get(key), _news.get(key))
        ]
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            stables=[key for key in REPLACE_KEYS if key not in replaces],
            delete_before_replace=_needs_delete_first(replaces, _news),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = images.CopySpec(
            source_ami_id=props["source_ami_id"],
            source_region=props["source_region"],
            region=props["region"],
            name=props["name"],
            description=props.get("description"),
            tags=props.get("tags") or {},
        )
        outs = images.copy_image(spec)
        outs.update(
            {key: props.get(key) for key in ("name_generated", "random_name_prefix")}
        )
        return CreateResult(outs["image_id"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        image = images.describe_image(props["region"], id_)
        if image is None or image.get("State") == "deregistered":
            # An empty id tells the engine that the image is gone.
            return ReadResult(None, {})

        live_tags = images.read_tags(image)
        outs = dict(props)
        outs["tags"] = {k: v for k, v in live_tags.items() if k not in LINEAGE_TAG_KEYS}
        outs["lineage_tags"] = {
            k: v for k, v in live_tags.items() if k in LINEAGE_TAG_KEYS
        }
        if props.get("description") is not None:
            outs["description"] = image.get("Description", "")
        outs["creation_date"] = image.get("CreationDate", props.get("creation_date"))
        return ReadResult(id_, outs)

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> UpdateResult:
        region = _olds["region"]
        old_tags = _olds.get("tags") or {}
        new_tags = _news.get("tags") or {}
        if old_tags != new_tags:
            resources = [_id, *(_olds.get("snapshot_ids") or [])]
            images.update_tags(region, resources, old_tags, new_tags)

        description = _news.get("description")
        if description != _olds.get("description"):
            images.set_description(region, _id, description or "")

        outs = dict(_olds)
        outs.update({key: _news.get(key) for key in INPUT_KEYS})
        return UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        images.delete_image(
            _props["region"], _id, list(_props.get("snapshot_ids") or [])
        )

    @staticmethod
    def _stable_name(
        olds: Mapping[str, Any], news: Mapping[str, Any], prefix: str
    ) -> str:
        """Keep a generated name across `up`s unless the image will be replaced."""
        same_image = all(
            olds.get(key) == news.get(key)
            for key in ("source_ami_id", "source_region", "region")
        )
        if (
            olds.get("name_generated")
            and olds.get("name")
            and olds.get("random_name_prefix") == prefix
            and same_image
        ):
            return olds["name"]
        return generate_image_name(prefix)

    @staticmethod
    def _source_changed(olds: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
        """Tell whether the source must be checked: new resource or new source.

        An existing copy is not checked again, so that a stack keeps working
        after the vendor withdraws the source image.
        """
        if not all(_known(inputs[key]) for key in ("source_ami_id", "source_region")):
            return False
        return (
            olds.get("source_ami_id") != inputs["source_ami_id"]
            or olds.get("source_region") != inputs["source_region"]
        )

    @staticmethod
    def _check_source_exists(inputs: Mapping[str, Any]) -> str | None:
        try:
            images.require_source_image(
                inputs["source_ami_id"], inputs["source_region"]
            )
        except SourceImageNotFoundError as error:
            return str(error)
        return None


def _needs_delete_first(replaces: list[str], news: Mapping[str, Any]) -> bool:
    """Tell whether the old image must go first: AWS rejects a second image of
    the same name in one region, and an explicit name stays the same."""
    return bool(replaces) and not news.get("name_generated") and "name" not in replaces


def _differs(old: Any, new: Any) -> bool:
    if _is_unknown(new):
        return True
    # Treat a missing tag map or description like an empty one.
    return (old or None) != (new or None)

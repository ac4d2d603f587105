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

from amitools_pulumi import (
    aws,
    copying,
    guard,
    images,
    progress,
    server_threads,
    validation,
)
from amitools_pulumi.errors import (
    DescendantsExistError,
    MissingLineageTagsError,
    SourceImageNotFoundError,
)
from amitools_pulumi.naming import DEFAULT_NAME_PREFIX, generate_image_name
from amitools_pulumi.tags import (
    SOURCE_IMAGE,
    SOURCE_REGION,
    TOKEN_TAG,
    dict_to_tags,
    tags_to_dict,
)

# Changing one of these makes a new image. `name` and `random_name_prefix`
# count only where the name matters; see _replace_keys.
REPLACE_KEYS = (
    "source_ami_id",
    "source_region",
    "region",
    "name",
    "random_name_prefix",
    "encrypted",
    "kms_key_id",
)
# Changing one of these updates the resource in place.
UPDATE_KEYS = (
    "description",
    "tags",
    "profile",
    "wait_timeout_minutes",
    "allow_delete_with_descendants",
    "lineage_tag_drift",
)

INPUT_KEYS = (
    "source_ami_id",
    "source_region",
    "region",
    "name",
    "name_generated",
    "random_name_prefix",
    "description",
    "tags",
    "encrypted",
    "kms_key_id",
    "wait_timeout_minutes",
    "profile",
    "allow_delete_with_descendants",
    "resource_key",
    "lineage_tag_drift",
    "adopt_image_id",
)


def is_unknown(value: Any) -> bool:
    """Tell whether a value, or anything inside it, is not known until apply."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(is_unknown(item) for item in value)
    return False


def _known(value: Any) -> bool:
    return value is not None and not is_unknown(value)


def _marketplace_problem(
    image: Mapping[str, Any], inputs: Mapping[str, Any]
) -> str | None:
    """Return why EC2 would reject a copy of a Marketplace image, or None.

    CopyImage rejects an image with an AWS Marketplace product code unless
    the copying account owns it, as its seller does. The account id is
    requested only for such images.
    """
    codes = [
        code["ProductCodeId"]
        for code in image.get("ProductCodes") or []
        if code.get("ProductCodeType") == "marketplace"
    ]
    if not codes:
        return None
    owner = image.get("OwnerId")
    if owner == aws.account_id(inputs["source_region"], inputs.get("profile")):
        return None
    return (
        f"source image {image['ImageId']} carries AWS Marketplace product code "
        f"{codes[0]} and belongs to account {owner}; EC2 copies such an image "
        "only for its owner. Launch an instance from it, create an image of "
        "that instance, and copy that image instead"
    )


def _client(props: Mapping[str, Any]) -> Any:
    return aws.ec2_client(props["region"], props.get("profile"))


class ImageCopyProvider(ResourceProvider):
    """Create, read, update and delete one image copy with lineage tags."""

    # The provider contains no secret, so the state may show it in clear text.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _olds or {}
        failures: list[CheckFailure] = []

        def fail(field: str, problem: str | None) -> None:
            if problem is not None:
                failures.append(CheckFailure(field, problem))

        inputs = {key: news.get(key) for key in INPUT_KEYS}
        inputs["tags"] = news.get("tags") or {}
        inputs["random_name_prefix"] = (
            news.get("random_name_prefix") or DEFAULT_NAME_PREFIX
        )
        if inputs["wait_timeout_minutes"] is None:
            inputs["wait_timeout_minutes"] = copying.DEFAULT_WAIT_TIMEOUT_MINUTES
        if inputs["allow_delete_with_descendants"] is None:
            inputs["allow_delete_with_descendants"] = False
        # The managed lineage tags must have no drift; see read().
        inputs["lineage_tag_drift"] = {}

        rules = {
            "source_ami_id": validation.check_image_id,
            "source_region": validation.check_region,
            "region": validation.check_region,
            "random_name_prefix": validation.check_name_prefix,
            "description": validation.check_description,
            "encrypted": validation.check_bool,
            "wait_timeout_minutes": validation.check_wait_timeout,
            "allow_delete_with_descendants": validation.check_bool,
        }
        # A ClonedAmi's source_region mirrors its region: report a bad one once.
        if inputs["source_region"] == inputs["region"]:
            rules.pop("source_region")
        for field, rule in rules.items():
            if not is_unknown(inputs[field]):
                fail(field, rule(field, inputs[field]))
        if not is_unknown(inputs["tags"]):
            for problem in validation.check_tags("tags", inputs["tags"]):
                fail("tags", problem)
        if not is_unknown(inputs["kms_key_id"]) and not is_unknown(inputs["encrypted"]):
            fail(
                "kms_key_id",
                validation.check_kms_key(
                    "kms_key_id", inputs["kms_key_id"], inputs["encrypted"]
                ),
            )

        if _known(inputs["profile"]):
            fail("profile", aws.profile_problem("profile", inputs["profile"]))

        if inputs["adopt_image_id"] is not None and not is_unknown(
            inputs["adopt_image_id"]
        ):
            fail(
                "adopt_image_id",
                validation.check_image_id("adopt_image_id", inputs["adopt_image_id"]),
            )

        inputs["name_generated"] = not news.get("name")
        if inputs["name_generated"]:
            inputs["name"] = self._stable_name(olds, inputs)
        elif _known(inputs["name"]):
            fail("name", validation.check_image_name("name", inputs["name"]))

        # AWS reads happen only when the rules above passed, and only when a
        # new image will be made: an existing copy keeps working after its
        # source is withdrawn.
        if failures:
            return CheckResult(inputs, failures)
        if not olds and _known(inputs["adopt_image_id"]):
            fail("adopt_image_id", self._check_adoptable(inputs))
            return CheckResult(inputs, failures)
        triggers = self._copy_triggers(olds, inputs)
        if triggers is not None:
            fail("source_ami_id", self._check_source(inputs, triggers))
        if self._explicit_name_changed(olds, inputs):
            fail("name", self._check_name_free(inputs))
        return CheckResult(inputs, failures)

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> DiffResult:
        replaces = [
            key for key in _replace_keys(_olds, _news) if _differs(_olds, _news, key)
        ]
        updates = [key for key in UPDATE_KEYS if _differs(_olds, _news, key)]
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            stables=["image_id", "snapshot_ids", "creation_date"]
            if not replaces
            else [],
            delete_before_replace=_needs_delete_first(replaces, _news),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get("adopt_image_id"):
            return self._create_by_adopting(props)
        explicit_name = None if props.get("name_generated") else props["name"]
        token = copying.copy_token(
            props.get("resource_key") or "",
            props["source_ami_id"],
            props["source_region"],
            props["region"],
            explicit_name,
            props.get("encrypted"),
            props.get("kms_key_id"),
        )
        spec = copying.CopySpec(
            source_ami_id=props["source_ami_id"],
            source_region=props["source_region"],
            region=props["region"],
            name=props["name"],
            token=token,
            description=props.get("description"),
            tags=props.get("tags") or {},
            encrypted=props.get("encrypted"),
            kms_key_id=props.get("kms_key_id"),
            wait_timeout_minutes=int(
                props.get("wait_timeout_minutes")
                or copying.DEFAULT_WAIT_TIMEOUT_MINUTES
            ),
            profile=props.get("profile"),
        )
        outs = {key: props.get(key) for key in INPUT_KEYS}
        outs.update(copying.copy_image(spec))
        return CreateResult(outs["image_id"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = _client(props)
        image = images.describe_image(client, id_)
        if image is None or image.get("State") == "deregistered":
            _report_orphaned_snapshots(client, id_, props)
            # An empty id marks the image as gone for the engine.
            return ReadResult(None, {})

        user_tags, live_lineage = images.split_tags(image.get("Tags"))
        importing = not props.get("image_id")
        if importing:
            outs = self._adopt(client, id_, props, image, live_lineage)
        else:
            outs = dict(props)
        outs["tags"] = user_tags
        if props.get("description") is not None:
            outs["description"] = image.get("Description", "")
        outs["creation_date"] = image.get("CreationDate", props.get("creation_date"))

        # Drift of the managed lineage tags is kept apart from the tags
        # themselves, so that the next `up` shows it and writes them back.
        managed = outs.get("lineage_tags") or {}
        outs["lineage_tag_drift"] = {
            key: live_lineage.get(key, "")
            for key in sorted(managed)
            if live_lineage.get(key) != managed[key]
        }
        inputs = {key: outs.get(key) for key in INPUT_KEYS}
        return ReadResult(id_, outs, inputs)

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> UpdateResult:
        client = _client(_olds)
        resources = [_id, *(_olds.get("snapshot_ids") or [])]

        old_tags = _olds.get("tags") or {}
        new_tags = _news.get("tags") or {}
        if old_tags != new_tags:
            images.update_tags(client, resources, old_tags, new_tags)

        description = _news.get("description")
        if description != _olds.get("description"):
            images.set_description(client, _id, description or "")

        if _olds.get("lineage_tag_drift"):
            client.create_tags(
                Resources=resources, Tags=dict_to_tags(_olds["lineage_tags"])
            )

        outs = dict(_olds)
        outs.update({key: _news.get(key) for key in INPUT_KEYS})
        # A generated name is kept as the image has it.
        outs["name"] = _olds.get("name")
        outs["lineage_tag_drift"] = {}
        return UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        region = _props["region"]
        profile = _props.get("profile")
        if not _props.get("allow_delete_with_descendants"):
            descendants = guard.children_of(_id, region, profile)
            if descendants:
                listed = ", ".join(
                    f"{node.image_id} ({node.region}, {node.name})"
                    for node in descendants
                )
                raise DescendantsExistError(
                    f"image {_id} in {region} still has images made from it: {listed}. "
                    "Delete those first, or set allow_delete_with_descendants=True "
                    "and run pulumi up before deleting it anyway"
                )
        images.delete_image(
            aws.ec2_client(region, profile), _id, list(_props.get("snapshot_ids") or [])
        )

    def _create_by_adopting(self, props: dict[str, Any]) -> CreateResult:
        """Take over an existing tagged image instead of copying."""
        image_id = props["adopt_image_id"]
        client = _client(props)
        image = images.describe_image(client, image_id)
        if image is None or image.get("State") == "deregistered":
            raise SourceImageNotFoundError(
                f"adopt_image_id {image_id} was not found in region {props['region']}"
            )
        old_user_tags, live_lineage = images.split_tags(image.get("Tags"))
        outs = self._adopt(client, image_id, props, image, live_lineage)
        resources = [image_id, *outs["snapshot_ids"]]
        images.update_tags(client, resources, old_user_tags, props.get("tags") or {})
        # The token marks the image as managed, so no other resource adopts it.
        token = copying.copy_token(props.get("resource_key") or "", "adopted", image_id)
        images.write_tags(client, outs["snapshot_ids"], live_lineage)
        images.write_tags(client, [image_id], {TOKEN_TAG: token})
        outs.update(
            {
                "tags": props.get("tags") or {},
                "description": props.get("description"),
                "creation_date": image.get("CreationDate"),
                "lineage_tag_drift": {},
            }
        )
        if props.get("description") is not None:
            images.set_description(client, image_id, props["description"])
        return CreateResult(image_id, outs)

    @staticmethod
    def _adopt(
        client: Any,
        image_id: str,
        props: Mapping[str, Any],
        image: Mapping[str, Any],
        live_lineage: Mapping[str, str],
    ) -> dict[str, Any]:
        """Build the outputs of an existing image that the resource takes over."""
        if SOURCE_IMAGE not in live_lineage:
            raise MissingLineageTagsError(
                f"image {image_id} in {props['region']} has no amitools lineage tags "
                "(source_image, source_region, create_date, create_timestamp), so it "
                "cannot be adopted as a copy; tag it first, or copy it with a new "
                "ClonedAmi instead of adopting it"
            )
        outs = {key: props.get(key) for key in INPUT_KEYS}
        outs.update(
            {
                "image_id": image_id,
                "name": image.get("Name"),
                "source_ami_id": live_lineage[SOURCE_IMAGE],
                "source_region": live_lineage.get(SOURCE_REGION, props["region"]),
                "snapshot_ids": images.snapshot_ids(image),
                "snapshots_encrypted": images.is_encrypted(client, image),
                "lineage_tags": dict(live_lineage),
            }
        )
        return outs

    @staticmethod
    def _stable_name(olds: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
        """Keep a generated name across `up`s unless the image will be replaced."""
        prefix = inputs["random_name_prefix"]
        same_image = all(
            olds.get(key) == inputs.get(key)
            for key in (
                "source_ami_id",
                "source_region",
                "region",
                "encrypted",
                "kms_key_id",
            )
        )
        if (
            olds.get("name_generated")
            and olds.get("name")
            and olds.get("random_name_prefix") == prefix
            and same_image
        ):
            return olds["name"]
        return generate_image_name(prefix if _known(prefix) else DEFAULT_NAME_PREFIX)

    @staticmethod
    def _copy_triggers(
        olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> list[str] | None:
        """Return the inputs whose change makes a new copy ([] for a new
        resource), or None when no copy will be made or the source is unknown."""
        if not all(_known(inputs[key]) for key in ("source_ami_id", "source_region")):
            return None
        if not olds:
            return []
        changed = [
            key
            for key in _replace_keys(olds, inputs)
            if not is_unknown(inputs.get(key)) and _differs(olds, inputs, key)
        ]
        return changed or None

    @staticmethod
    def _explicit_name_changed(
        olds: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> bool:
        if inputs["name_generated"] or not all(
            _known(inputs[key]) for key in ("name", "region")
        ):
            return False
        return (
            olds.get("name") != inputs["name"] or olds.get("region") != inputs["region"]
        )

    @staticmethod
    def _check_source(inputs: Mapping[str, Any], triggers: list[str]) -> str | None:
        """Return why the source cannot be copied now, or None when it can."""
        image_id, region = inputs["source_ami_id"], inputs["source_region"]
        image = images.describe_image(
            aws.ec2_client(region, inputs.get("profile")), image_id
        )
        why = ""
        if triggers:
            why = f" (changing {', '.join(triggers)} makes a new copy of the source)"
        if image is None or image.get("State") == "deregistered":
            return (
                f"source image {image_id} was not found in region {region}{why}; check "
                "the image id and the source region, and that this account may read it"
            )
        if image.get("State") != "available":
            return (
                f"source image {image_id} is {image.get('State')}, not available{why}; "
                "wait until it is available, then run the update again"
            )
        return _marketplace_problem(image, inputs)

    @staticmethod
    def _check_adoptable(inputs: Mapping[str, Any]) -> str | None:
        """Return why the image to adopt cannot be, or None when it can."""
        image_id = inputs["adopt_image_id"]
        image = images.describe_image(_client(inputs), image_id)
        if image is None or image.get("State") == "deregistered":
            return (
                f"adopt_image_id {image_id} was not found in region "
                f"{inputs['region']}; check the id and the region"
            )
        if copying.made_by(image, inputs.get("resource_key") or ""):
            return (
                f"adopt_image_id {image_id} is the image this resource already "
                "manages, and a replacement would delete it; remove adopt_image_id "
                "so that the replacement makes a new copy"
            )
        if TOKEN_TAG in tags_to_dict(image.get("Tags")):
            return (
                f"adopt_image_id {image_id} was made by an amitools_pulumi resource "
                f"(it has the tag {TOKEN_TAG}), which a stack may still manage; "
                "adopting it would let two resources delete one image. If no stack "
                "manages it, remove that tag first"
            )
        _user, live_lineage = images.split_tags(image.get("Tags"))
        parent = live_lineage.get(SOURCE_IMAGE)
        parent_region = live_lineage.get(SOURCE_REGION, inputs["region"])
        if parent is None:
            return (
                f"adopt_image_id {image_id} has no amitools lineage tags; tag it with "
                "source_image and source_region first, or copy the source instead"
            )
        if (parent, parent_region) != (
            inputs["source_ami_id"],
            inputs["source_region"],
        ):
            return (
                f"adopt_image_id {image_id} was made from {parent} in {parent_region}, "
                f"not from source_ami_id {inputs['source_ami_id']} in "
                f"{inputs['source_region']}; set source_ami_id and source_region to "
                "match its lineage tags"
            )
        if not inputs["name_generated"] and image.get("Name") != inputs["name"]:
            return (
                f"adopt_image_id {image_id} is named {image.get('Name')!r}, not "
                f"{inputs['name']!r}; leave name unset or set it to the image's name"
            )
        return None

    @staticmethod
    def _check_name_free(inputs: Mapping[str, Any]) -> str | None:
        # EC2 rejects a second image of the same name in one region.
        client = aws.ec2_client(inputs["region"], inputs.get("profile"))
        taken = images.find_by_name(client, inputs["name"])
        if taken is None:
            return None
        # Pulumi checks a replacement without its old inputs. The image that
        # this resource made is deleted before the replacement is created;
        # see _needs_delete_first.
        if copying.made_by(taken, inputs.get("resource_key") or ""):
            return None
        return (
            f"name {inputs['name']!r} is already used by image {taken['ImageId']} in "
            f"{inputs['region']}; choose another name, or leave name unset to "
            "generate one"
        )


def _report_orphaned_snapshots(
    client: Any, image_id: str, props: Mapping[str, Any]
) -> None:
    """Warn about snapshots of a vanished image that still exist.

    Refresh never deletes them: they may be the last copy of the image's data,
    from which it can be registered again.
    """
    remaining = [
        snapshot_id
        for snapshot_id in props.get("snapshot_ids") or []
        if images.snapshot_exists(client, snapshot_id)
    ]
    if remaining:
        progress.warn(
            f"image {image_id} in {props.get('region')} is gone, but its snapshots "
            f"{', '.join(remaining)} remain; register an image from them with "
            "RegisterImage, or delete them with DeleteSnapshot"
        )


def _replace_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Return the keys whose change replaces the image.

    A generated name is not the user's intent: it differs between an
    interrupted create and its retry, so it never replaces the image. Its
    prefix does, because the user chose the prefix.
    """
    both_generated = bool(olds.get("name_generated")) and bool(
        news.get("name_generated")
    )
    keys = list(REPLACE_KEYS)
    if both_generated:
        keys.remove("name")
    if not news.get("name_generated"):
        keys.remove("random_name_prefix")
    return keys


def _needs_delete_first(replaces: list[str], news: Mapping[str, Any]) -> bool:
    """Tell whether the old image must go first: EC2 rejects a second image of
    the same name in one region, so an explicit name that stays the same in
    the same region would collide."""
    return (
        bool(replaces)
        and not news.get("name_generated")
        and "name" not in replaces
        and "region" not in replaces
    )


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], key: str) -> bool:
    old, new = olds.get(key), news.get(key)
    if is_unknown(new):
        return True
    # Treat a missing map, string or flag like an empty one.
    return (old or None) != (new or None)


# In Pulumi's dynamic-provider server, these let more than 4 copies wait for
# EC2 at once and end the server with its engine. Elsewhere they do nothing.
server_threads.widen()
server_threads.exit_with_engine()

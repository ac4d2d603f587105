"""EC2 behaviour that moto lacks, added through moto's own backend objects.

moto makes every copy `available` at once, never ends one `failed`, and drops
the Encrypted and KmsKeyId parameters of CopyImage. Real EC2 keeps a copy
`pending` for minutes, can end it `failed` with a state reason, and encrypts
the copy's snapshots when asked (or when the source is encrypted). The
classes here patch moto in the test process; its server thread shares the
backends, so the provider, a separate process, gets the same behaviour.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError
from moto.ec2.models.amis import AmiBackend
from moto.ec2.responses.amis import AmisResponse


class CopyControl:
    """Hold new copies `pending`, end them `failed`, hide them for the first
    `not_found_polls` reads, and count their polls.

    It also applies CopyImage's TagSpecifications to the image, which real EC2
    writes atomically with the copy and moto ignores.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.copies: list[Any] = []
        self.polls: dict[str, int] = {}
        self.release_after_polls: int | None = None
        self.fail_with: str | None = None
        self.not_found_polls = 0
        self.holding = True
        self.polled = threading.Event()
        original_copy = AmiBackend.copy_image
        original_describe = AmiBackend.describe_images
        original_response = AmisResponse.copy_image
        control = self

        def copy_image(backend: Any, *args: Any, **kwargs: Any) -> Any:
            image = original_copy(backend, *args, **kwargs)
            if control.fail_with is not None:
                image.state = "failed"
                image.state_reason = {
                    "Code": "Client.Error",
                    "Message": control.fail_with,
                }
            elif control.holding:
                image.state = "pending"
            control.copies.append(image)
            return image

        def copy_image_response(response: Any) -> Any:
            result = original_response(response)
            image_id = result.result["ImageId"]
            for spec in response._get_param("TagSpecifications", []) or []:
                if spec.get("ResourceType") == "image":
                    pairs = spec.get("Tag") or spec.get("Tags") or []
                    tags = {pair["Key"]: pair.get("Value", "") for pair in pairs}
                    response.ec2_backend.create_tags([image_id], tags)
            return result

        def describe_images(
            backend: Any, ami_ids: Any = None, *args: Any, **kwargs: Any
        ) -> Any:
            for image in control.copies:
                if ami_ids and image.id in ami_ids:
                    control._polled(image)
                    # Real EC2 does not know a copy for a while after CopyImage.
                    if control.polls[image.id] <= control.not_found_polls:
                        raise InvalidAMIIdError(image.id)
            return original_describe(backend, ami_ids, *args, **kwargs)

        monkeypatch.setattr(AmiBackend, "copy_image", copy_image)
        monkeypatch.setattr(AmiBackend, "describe_images", describe_images)
        monkeypatch.setattr(AmisResponse, "copy_image", copy_image_response)

    def _polled(self, image: Any) -> None:
        count = self.polls.get(image.id, 0) + 1
        self.polls[image.id] = count
        # The first poll is the existence check; later ones are the wait loop.
        if count >= 2:
            self.polled.set()
        limit = self.release_after_polls
        if image.state == "pending" and limit is not None and count >= limit:
            image.state = "available"

    def release(self) -> None:
        """Make every held copy available, and stop holding new ones."""
        self.holding = False
        for image in self.copies:
            if image.state == "pending":
                image.state = "available"


class EncryptionEmulation:
    """Apply CopyImage's Encrypted and KmsKeyId, and record what was sent."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[dict[str, Any]] = []
        original = AmisResponse.copy_image
        emulation = self

        def copy_image(response: Any) -> Any:
            encrypted = response._get_param("Encrypted")
            kms_key_id = response._get_param("KmsKeyId")
            source_id = response._get_param("SourceImageId")
            source_region = response._get_param("SourceRegion")
            emulation.requests.append(
                {
                    "Encrypted": encrypted,
                    "KmsKeyId": kms_key_id,
                    "SourceImageId": source_id,
                }
            )
            result = original(response)

            copy = response.ec2_backend.amis[result.result["ImageId"]]
            source = _find_image(response, source_region, source_id)
            if encrypted in (True, "true") or (
                source and source.ebs_snapshot.encrypted
            ):
                copy.ebs_snapshot.encrypted = True
                copy.ebs_snapshot.kms_key_id = kms_key_id or "alias/aws/ebs"
            return result

        monkeypatch.setattr(AmisResponse, "copy_image", copy_image)


class DescriptionEmulation:
    """Apply ModifyImageAttribute's Description, which moto accepts and drops."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = AmisResponse.modify_image_attribute

        def modify_image_attribute(response: Any) -> Any:
            description = response._get_param("Description.Value")
            if description is None:
                description = (response._get_param("Description") or {}).get("Value")
            result = original(response)
            if description is not None:
                image_id = response._get_param("ImageId")
                response.ec2_backend.amis[image_id].description = description
            return result

        monkeypatch.setattr(
            AmisResponse, "modify_image_attribute", modify_image_attribute
        )


def _find_image(response: Any, region: str, image_id: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[response.current_account][region].amis.get(image_id)


class FailingAction:
    """Make one EC2 action fail with a real EC2 error code, a set number of times.

    `action` is a response method such as `AmisResponse.copy_image`; each call
    raises `code` until `times` failures have been served, then the action
    works again. `calls` counts every request that reached the action.
    """

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        owner: type,
        action: str,
        code: str,
        times: int,
    ) -> None:
        self.failures_left = times
        self.calls = 0
        original = getattr(owner, action)
        fault = self

        class EmulatedError(EC2ClientError):
            pass

        EmulatedError.code = code
        EmulatedError.message = f"emulated {code}"

        def failing(response: Any) -> Any:
            fault.calls += 1
            if fault.failures_left > 0:
                fault.failures_left -= 1
                raise EmulatedError(code, f"emulated {code}")
            return original(response)

        monkeypatch.setattr(owner, action, failing)


MARKETPLACE_ACCOUNT = "679593333241"


class MarketplaceEmulation:
    """Turn images into AWS Marketplace images of another account.

    moto's catalog images carry no product code, and its CopyImage copies
    anything. Real EC2 lists the product code and the seller's account, and
    refuses to copy such an image for any account but the seller's.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.code = "8fjcaspr7cnf4ioej4j8v3fzx"
        original = AmiBackend.copy_image
        emulation = self

        def copy_image(
            backend: Any, source_image_id: str, source_region: str, *args: Any
        ) -> Any:
            from moto.ec2.models import ec2_backends

            source = ec2_backends[backend.account_id][source_region]
            image = source.describe_images(ami_ids=[source_image_id])[0]
            if image.product_codes and image.owner_id != backend.account_id:
                raise EC2ClientError(
                    "InvalidRequest",
                    f"Images with product code {emulation.code} cannot be copied "
                    f"by account {backend.account_id}",
                )
            return original(backend, source_image_id, source_region, *args)

        monkeypatch.setattr(AmiBackend, "copy_image", copy_image)

    def mark(self, image: Any) -> None:
        """Give `image`, a moto backend object, a seller and a product code."""
        image.product_codes = [
            {"ProductCodeId": self.code, "ProductCodeType": "marketplace"}
        ]
        image.owner_id = MARKETPLACE_ACCOUNT
        image.owner_alias = "aws-marketplace"


class ClientTokenEmulation:
    """Give CopyImage's ClientToken the idempotency that EC2 documents.

    moto ignores ClientToken. EC2 remembers each token: the same token with
    the same parameters returns the first call's image id, even after that
    image is gone, and with other parameters fails with
    IdempotentParameterMismatch.
    """

    PARAMETERS = (
        "SourceImageId",
        "SourceRegion",
        "Name",
        "Description",
        "Encrypted",
        "KmsKeyId",
    )

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from moto.core.responses import ActionResult

        self.seen: dict[str, tuple[tuple[Any, ...], str]] = {}
        self.reused = 0
        original = AmisResponse.copy_image
        emulation = self

        def copy_image(response: Any) -> Any:
            token = response._get_param("ClientToken")
            params = tuple(response._get_param(name) for name in self.PARAMETERS)
            if token and token in emulation.seen:
                emulation.reused += 1
                first_params, image_id = emulation.seen[token]
                if first_params != params:
                    raise EC2ClientError(
                        "IdempotentParameterMismatch",
                        f"client token {token} was used with other parameters",
                    )
                return ActionResult({"ImageId": image_id})
            result = original(response)
            if token:
                emulation.seen[token] = (params, result.result["ImageId"])
            return result

        monkeypatch.setattr(AmisResponse, "copy_image", copy_image)

"""Children and Ancestors: lineage queries as Pulumi Outputs, for `pulumi.export`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pulumi

from amitools_pulumi import aws
from amitools_pulumi.lineage import Lineage, find_ancestors, find_children


def _query(
    run: Callable[[str, str], Lineage],
    image_id: pulumi.Input[str],
    region: pulumi.Input[str] | None,
    depends_on: Sequence[pulumi.Resource],
) -> pulumi.Output[list[dict[str, Any]]]:
    resolved_region = region if region is not None else aws.resolve_region(None)
    # A custom resource's id resolves once the resource exists; a component
    # has no id, so its URN is the closest thing to wait for.
    waits = [getattr(resource, "id", resource.urn) for resource in depends_on]

    def collect(values: list[Any]) -> list[dict[str, Any]]:
        lineage = run(values[0], values[1])
        for failed_region, reason in sorted(lineage.region_errors.items()):
            pulumi.log.warn(
                f"lineage of {values[0]}: region {failed_region} skipped: {reason}"
            )
        return [node.to_dict() for node in lineage.nodes]

    return pulumi.Output.all(image_id, resolved_region, *waits).apply(collect)


def Children(  # noqa: N802 - named like a resource, as Pulumi programs use it
    image_id: pulumi.Input[str],
    region: pulumi.Input[str] | None = None,
    *,
    regions: Sequence[str] | None = None,
    max_depth: int | None = None,
    include_deregistered: bool = False,
    profile: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> pulumi.Output[list[dict[str, Any]]]:
    """Return an Output with the descendants of `image_id`, for `pulumi.export`.

    Each item is a LineageNode as a dict (`image_id`, `name`, `region`,
    `parent_image_id`, `parent_region`, `depth`, `create_date`,
    `create_timestamp`, `owner`, `state`, `evidence`, `conflict`, `missing`,
    `cycle`). `region` defaults to the program's region. The query runs once
    its inputs are known and every resource in `depends_on` exists, so that a
    lineage that includes images made by the same program lists them. Regions
    that cannot be listed are skipped with a warning.

    Example::

        pulumi.export("lineage", amitools.Children(base_id, depends_on=[copy]))
    """
    return _query(
        lambda image, home: find_children(
            image,
            home,
            regions=regions,
            max_depth=max_depth,
            profile=profile,
            include_deregistered=include_deregistered,
        ),
        image_id,
        region,
        depends_on,
    )


def Ancestors(  # noqa: N802 - named like a resource, as Pulumi programs use it
    image_id: pulumi.Input[str],
    region: pulumi.Input[str] | None = None,
    *,
    max_depth: int | None = None,
    profile: str | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> pulumi.Output[list[dict[str, Any]]]:
    """Return an Output with the ancestors of `image_id`, parent first.

    Items have the shape of `Children`'s. A parent that no longer exists
    ends the list as a node with `missing` set.

    Example::

        pulumi.export("origin", amitools.Ancestors(copy.image_id, copy.region))
    """
    return _query(
        lambda image, home: find_ancestors(
            image, home, max_depth=max_depth, profile=profile
        ),
        image_id,
        region,
        depends_on,
    )

"""Text forms of a lineage: table, JSON, tree, and Mermaid or Graphviz pictures.

In the pictures every edge points from parent to child, and each region is a
cluster, so a copy to another region crosses a cluster border.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

from amitools_pulumi.lineage import Lineage, LineageNode

FORMATS = ("table", "json", "tree", "mermaid", "dot")


def render(lineage: Lineage, output_format: str) -> str:
    """Return `lineage` in `output_format`, one of FORMATS."""
    renderers = {
        "table": render_table,
        "json": render_json,
        "tree": render_tree,
        "mermaid": render_mermaid,
        "dot": render_dot,
    }
    if output_format not in renderers:
        raise ValueError(
            f"format {output_format!r} is unknown; use one of {', '.join(FORMATS)}"
        )
    return renderers[output_format](lineage)


def _flags(node: LineageNode) -> str:
    flags = []
    if node.missing:
        flags.append("missing")
    if node.cycle:
        flags.append("cycle")
    if node.conflict:
        flags.append(f"conflict: {node.conflict}")
    return "; ".join(flags)


def render_table(lineage: Lineage) -> str:
    header = (
        "DEPTH",
        "IMAGE",
        "REGION",
        "CREATED",
        "EVIDENCE",
        "PARENT",
        "NAME",
        "NOTE",
    )
    rows = [header]
    for node in lineage.nodes:
        rows.append(
            (
                str(node.depth),
                node.image_id,
                node.region,
                node.create_date or "-",
                node.evidence,
                node.parent_image_id or "-",
                node.name or "-",
                _flags(node),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]
    lines += _region_error_lines(lineage)
    return "\n".join(lines)


def render_json(lineage: Lineage) -> str:
    return json.dumps(lineage.to_dict(), indent=2, sort_keys=True)


def render_tree(lineage: Lineage) -> str:
    """Return an indented tree with the queried image at the top."""
    lines = [f"{lineage.image_id}  ({lineage.region}, queried image)"]
    if lineage.direction == "ancestors":
        # Ancestors form a chain: show it from the queried image upward.
        for node in lineage.nodes:
            lines.append(f"{'    ' * node.depth}↑ {_label_line(node)}")
        return "\n".join(lines + _region_error_lines(lineage))

    children: dict[str, list[LineageNode]] = defaultdict(list)
    for node in lineage.nodes:
        children[node.parent_image_id or ""].append(node)

    def show(image_id: str, indent: str, depth: int) -> None:
        level = [node for node in children.get(image_id, []) if node.depth == depth]
        for position, node in enumerate(level):
            last = position == len(level) - 1
            lines.append(f"{indent}{'└─' if last else '├─'} {_label_line(node)}")
            if not node.cycle:
                show(node.image_id, indent + ("    " if last else "│   "), depth + 1)

    show(lineage.image_id, "    ", 1)
    return "\n".join(lines + _region_error_lines(lineage))


def _label_line(node: LineageNode) -> str:
    parts = [node.image_id, node.region, node.create_date or "-", node.name or "-"]
    flags = _flags(node)
    if flags:
        parts.append(f"[{flags}]")
    return "  ".join(parts)


def _edges(lineage: Lineage) -> list[tuple[str, str]]:
    """Return (parent, child) pairs, always pointing down the lineage."""
    if lineage.direction == "children":
        return [(node.parent_image_id or "", node.image_id) for node in lineage.nodes]
    chain = [lineage.image_id, *(node.image_id for node in lineage.nodes)]
    return [(chain[i + 1], chain[i]) for i in range(len(chain) - 1)]


def _regions(lineage: Lineage) -> dict[str, list[tuple[str, str]]]:
    """Return region → [(image id, label)], the queried image included."""
    regions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    regions[lineage.region].append((lineage.image_id, f"{lineage.image_id}\\nqueried"))
    for node in lineage.nodes:
        if node.image_id == lineage.image_id:
            # A cycle leads back to the queried image, which is drawn once.
            continue
        label = "\\n".join(
            part
            for part in (node.image_id, node.name, node.create_date, _flags(node))
            if part
        )
        regions[node.region].append((node.image_id, label))
    return regions


def _identifier(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def render_mermaid(lineage: Lineage) -> str:
    lines = ["graph TD"]
    for region, members in sorted(_regions(lineage).items()):
        lines.append(f'  subgraph {_identifier(region)}["{region}"]')
        for image_id, label in members:
            text = label.replace("\\n", "<br/>").replace('"', "'")
            lines.append(f'    {_identifier(image_id)}["{text}"]')
        lines.append("  end")
    for parent, child in _edges(lineage):
        if parent:
            lines.append(f"  {_identifier(parent)} --> {_identifier(child)}")
    return "\n".join(lines)


def render_dot(lineage: Lineage) -> str:
    lines = ["digraph lineage {", "  rankdir=TB;", "  node [shape=box];"]
    for region, members in sorted(_regions(lineage).items()):
        lines.append(f'  subgraph "cluster_{region}" {{')
        lines.append(f'    label="{region}";')
        for image_id, label in members:
            text = label.replace('"', '\\"')
            lines.append(f'    "{image_id}" [label="{text}"];')
        lines.append("  }")
    for parent, child in _edges(lineage):
        if parent:
            lines.append(f'  "{parent}" -> "{child}";')
    lines.append("}")
    return "\n".join(lines)


def _region_error_lines(lineage: Lineage) -> list[str]:
    return [
        f"region {region} skipped: {reason}"
        for region, reason in sorted(lineage.region_errors.items())
    ]

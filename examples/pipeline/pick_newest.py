"""Print the id of the newest image in a lineage read from standard input.

Usage: pulumi stack output lineage --json | python3 pick_newest.py [--region R]

Reads the list that `Children` exports, keeps available images (in region R
when given), and prints the one with the highest `create_timestamp`. Exits
with 1 when no image qualifies.
"""

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description="Pick the newest image of a lineage.")
    parser.add_argument("--region", help="only images in this region")
    arguments = parser.parse_args()

    nodes = json.load(sys.stdin)
    candidates = [
        node
        for node in nodes
        if node.get("state") == "available"
        and not node.get("missing")
        and (arguments.region is None or node["region"] == arguments.region)
    ]
    if not candidates:
        print("no available image in the lineage matches", file=sys.stderr)
        return 1
    newest = max(
        candidates, key=lambda node: (node["create_timestamp"], node["image_id"])
    )
    print(newest["image_id"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Image names generated for copies that are not given one."""

from __future__ import annotations

import secrets
import time

DEFAULT_NAME_PREFIX = "AMI"

# 2**63 keeps the random part at 19 digits or fewer. With the 10-digit epoch
# and two dashes, a prefix of up to 97 characters still fits AWS's 128 limit.
_RANDOM_BOUND = 2**63
MAX_PREFIX_LENGTH = 128 - len("-1234567890-") - len(str(_RANDOM_BOUND))


def generate_image_name(prefix: str = DEFAULT_NAME_PREFIX) -> str:
    """Return `<prefix>-<epoch seconds>-<random number>`, unique in practice."""
    return f"{prefix}-{int(time.time())}-{secrets.randbelow(_RANDOM_BOUND)}"

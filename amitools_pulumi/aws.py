"""AWS clients and region resolution.

Clients are built inside the provider's process, never stored on the provider
object: Pulumi serializes the provider into the stack state, and a client there
would carry a session and credentials. botocore reads `AWS_ENDPOINT_URL`, the
credential chain and `AWS_PROFILE` itself.

The clients come from botocore sessions, the layer under boto3, and botocore
is imported when the first client is made. Importing the provider then costs
no more than importing Pulumi plus this package; the import of botocore's
client machinery (about 100 ms) moves to the first AWS call.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from amitools_pulumi.errors import RegionNotFoundError

# Adaptive mode adds client-side rate limiting to the standard retries, which
# keeps a stack with many copies under EC2's request limits.
RETRIES = {"mode": "adaptive", "max_attempts": 10}
USER_AGENT_EXTRA = "amitools-pulumi"

_lock = threading.Lock()
_sessions: dict[str | None, Any] = {}
_clients: dict[tuple[str, str, str | None], Any] = {}
_accounts: dict[str | None, str] = {}


def ec2_client(region: str, profile: str | None = None) -> Any:
    """Return the EC2 client for `region`, created once per process."""
    return _client("ec2", region, profile)


def account_id(region: str, profile: str | None = None) -> str:
    """Return the account id of the credentials, requested once per profile."""
    account = _accounts.get(profile)
    if account is None:
        identity = _client("sts", region, profile).get_caller_identity()
        account = _accounts[profile] = identity["Account"]
    return account


def _client(service: str, region: str, profile: str | None) -> Any:
    """Return the `service` client for `region` and `profile`, created once.

    botocore clients are thread-safe; sessions are not, so clients are created
    under a lock from one session per profile. Sharing the session also shares
    its loaded service model, which makes each further client cheap.
    """
    import botocore.config
    import botocore.session

    key = (service, region, profile)
    with _lock:
        client = _clients.get(key)
        if client is None:
            session = _sessions.get(profile)
            if session is None:
                session = _sessions[profile] = botocore.session.Session(profile=profile)
            config = botocore.config.Config(
                retries=RETRIES, user_agent_extra=USER_AGENT_EXTRA
            )
            client = session.create_client(service, region_name=region, config=config)
            _clients[key] = client
    return client


def profile_problem(field: str, profile: str | None) -> str | None:
    """Return why `profile` cannot be used, or None when it is unset or known."""
    import botocore.session

    if profile is None or profile in botocore.session.Session().available_profiles:
        return None
    return (
        f"{field} {profile!r} is not a profile in the AWS config or credentials "
        "files; add it there (aws configure --profile NAME), or leave it unset "
        "to use the default credentials"
    )


def custom_endpoint() -> str | None:
    """Return AWS_ENDPOINT_URL when EC2 calls go to an emulator or proxy."""
    return os.environ.get("AWS_ENDPOINT_URL_EC2") or os.environ.get("AWS_ENDPOINT_URL")


def default_region() -> str | None:
    """Return the region from the stack config `aws:region`, else the AWS default.

    The default comes from AWS_DEFAULT_REGION or the profile.
    """
    import botocore.session
    import pulumi

    configured = pulumi.Config("aws").get("region")
    return configured or botocore.session.Session().get_config_variable("region")


def default_profile() -> str | None:
    """Return the profile from the stack config `aws:profile`, if set.

    None leaves the choice to botocore (AWS_PROFILE, then the default chain).
    """
    import pulumi

    return pulumi.Config("aws").get("profile")


def resolve_region(region: str | None) -> str:
    """Return `region`, else the default region; raise when there is none."""
    resolved = region or default_region()
    if not resolved:
        raise RegionNotFoundError(
            "no AWS region given: pass region=..., run 'pulumi config set "
            "aws:region us-east-1', or set AWS_DEFAULT_REGION in the environment"
        )
    return resolved

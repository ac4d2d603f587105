"""Fixtures: moto's EC2 server on 127.0.0.1, the real Pulumi CLI, and stacks.

Every AWS call in the suite goes to the moto server through AWS_ENDPOINT_URL,
with dummy credentials. The instance metadata service is disabled, so no
credential lookup leaves the machine.
"""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pulumi import automation as auto

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
PROGRAMS = Path(__file__).resolve().parent / "programs"

# moto's fixed account id, and a real Canonical image record in its catalog.
ACCOUNT_ID = "123456789012"
CANONICAL = "099720109477"
UBUNTU_XENIAL = "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721"
HOME_REGION = "us-east-1"
COPY_REGION = "eu-west-1"

# Set before any boto3 client exists, in this process and in every child. The
# endpoint points at a closed loopback port until the moto server starts, so a
# client made too early fails instead of reaching AWS.
AWS_TEST_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": HOME_REGION,
    "AWS_DEFAULT_REGION": HOME_REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
logging.getLogger("werkzeug").setLevel(logging.WARNING)
for _key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_key, None)
os.environ.update(AWS_TEST_ENV)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start moto's server on a free loopback port for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    server.stop()
    os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(scope="session")
def ec2(moto_endpoint: str) -> Callable[[str], object]:
    """Return a factory of boto3 EC2 clients bound to the moto server."""

    def client(region: str = HOME_REGION):  # noqa: ANN202
        return boto3.client("ec2", region_name=region, endpoint_url=moto_endpoint)

    return client


@pytest.fixture(scope="session")
def foundation_image_id(ec2: Callable[[str], object]) -> str:
    """Return the id of Canonical's Ubuntu 16.04 image in moto's catalog."""
    images = ec2(HOME_REGION).describe_images(
        Owners=[CANONICAL], Filters=[{"Name": "name", "Values": [UBUNTU_XENIAL]}]
    )["Images"]
    assert images, "moto's catalog no longer holds the Ubuntu 16.04 image"
    return images[0]["ImageId"]


@pytest.fixture(scope="session")
def pulumi_bin_dir() -> Path:
    """Return the folder of the real Pulumi CLI; build it when missing.

    A missing CLI fails the tests that need it: they never skip.
    """
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "pulumi-toolchain.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            "the Pulumi CLI is missing and could not be built:\n" + result.stderr,
            pytrace=False,
        )
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def pulumi_command(pulumi_bin_dir: Path) -> auto.PulumiCommand:
    return auto.PulumiCommand(root=str(pulumi_bin_dir.parent))


@pytest.fixture(scope="session")
def pulumi_env(
    moto_endpoint: str, pulumi_bin_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Environment of every Pulumi command: moto, a private home, no network."""
    home = tmp_path_factory.mktemp("pulumi-home")
    # The language host and the dynamic provider start `python3` from PATH, so
    # the interpreter running the tests comes first.
    path = os.pathsep.join(
        [str(Path(sys.executable).parent), str(pulumi_bin_dir), os.environ["PATH"]]
    )
    return {
        **AWS_TEST_ENV,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "PATH": path,
        "PULUMI_HOME": str(home),
        "PULUMI_CONFIG_PASSPHRASE": "",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }


_stack_numbers = itertools.count(1)


@pytest.fixture
def make_stack(
    tmp_path: Path,
    pulumi_env: dict[str, str],
    pulumi_command: auto.PulumiCommand,
) -> Iterator[Callable[..., auto.Stack]]:
    """Return a factory of stacks that run a program folder; destroy them after.

    `config` sets stack config values; `env` adds environment variables.

    Each stack gets its own project folder and file backend under tmp_path, so
    tests never share Pulumi state.
    """
    stacks: list[auto.Stack] = []

    def factory(
        program: Path,
        config: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> auto.Stack:
        number = next(_stack_numbers)
        project_dir = tmp_path / f"project-{number}"
        project_dir.mkdir()
        (project_dir / "Pulumi.yaml").write_text(
            f"name: amitools-test-{number}\nruntime: python\nmain: {program}\n"
        )
        backend = tmp_path / f"backend-{number}"
        backend.mkdir()
        stack_env = {
            **pulumi_env,
            **(env or {}),
            "PULUMI_BACKEND_URL": backend.as_uri(),
        }
        stack = auto.create_stack(
            f"test{number}",
            work_dir=str(project_dir),
            opts=auto.LocalWorkspaceOptions(
                env_vars=stack_env, pulumi_command=pulumi_command
            ),
        )
        stack.set_config("aws:region", auto.ConfigValue(HOME_REGION))
        for key, value in (config or {}).items():
            stack.set_config(key, auto.ConfigValue(value))
        stacks.append(stack)
        return stack

    yield factory

    for stack in stacks:
        stack.destroy()
        stack.workspace.remove_stack(stack.name)

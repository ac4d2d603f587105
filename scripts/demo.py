"""Run the foundation example end to end against moto's EC2 on 127.0.0.1.

Usage: python scripts/demo.py [--destroy]

Without arguments: start moto's server (kept running in the background), run
`pulumi up` on the top-level program, make an image from an instance of the
eu-west-1 copy the way amitools' create-image does, run `pulumi up` again and
print the lineage. With --destroy: delete that image, destroy the stack and
stop the server. Pulumi state lives under .state/ in the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
STATE = REPO / ".state"
PORT_FILE = STATE / "moto.port"
PID_FILE = STATE / "moto.pid"
# Images the demo made outside Pulumi, one id per line, for demo-destroy.
DEMO_IMAGES = STATE / "demo-images"
STACK = "dev"
HOME_REGION = "us-east-1"
COPY_REGION = "eu-west-1"

sys.path.insert(0, str(REPO))
from amitools_pulumi.tags import dict_to_tags, lineage_tags  # noqa: E402


def say(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def moto_endpoint() -> str | None:
    """Return the endpoint of the demo's moto server when it responds."""
    if not PORT_FILE.exists():
        return None
    endpoint = f"http://127.0.0.1:{PORT_FILE.read_text().strip()}"
    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()
    except OSError:
        return None
    return endpoint


def start_moto() -> str:
    """Start scripts/moto_server.py in the background and return its endpoint."""
    PORT_FILE.unlink(missing_ok=True)
    log = open(STATE / "moto.log", "ab")  # noqa: SIM115 - the child keeps it open
    process = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "moto_server.py"), str(PORT_FILE)],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    PID_FILE.write_text(f"{process.pid}\n")
    for _ in range(100):
        endpoint = moto_endpoint()
        if endpoint:
            return endpoint
        time.sleep(0.1)
    raise SystemExit(f"moto's server did not start; see {STATE / 'moto.log'}")


def stop_moto() -> None:
    """Stop the background server and wait until it has exited."""
    if not PID_FILE.exists():
        return
    pid = int(PID_FILE.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            time.sleep(0.1)
            os.kill(pid, 0)
    except ProcessLookupError:
        pass
    PID_FILE.unlink()


def pulumi_environment(endpoint: str) -> dict[str, str]:
    toolchain = subprocess.run(
        ["bash", str(REPO / "scripts" / "pulumi-toolchain.sh")],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    pulumi_bin = toolchain.stdout.strip().splitlines()[-1]
    (STATE / "backend").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "PATH": os.pathsep.join(
                [str(Path(sys.executable).parent), pulumi_bin, env["PATH"]]
            ),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_DEFAULT_REGION": HOME_REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PULUMI_BACKEND_URL": (STATE / "backend").as_uri(),
            "PULUMI_HOME": str(STATE / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
    )
    env.pop("AWS_PROFILE", None)
    return env


def pulumi(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        ["pulumi", *args],
        cwd=REPO,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def demo_ec2(env: dict[str, str], region: str):  # noqa: ANN201
    """Return an EC2 client for moto, with the demo's dummy credentials."""
    return boto3.client(
        "ec2",
        region_name=region,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def make_image_from_instance(env: dict[str, str], copy_image_id: str) -> str:
    """Run an instance of the copy and image it, tagged as amitools does."""
    ec2 = demo_ec2(env, COPY_REGION)
    instance_id = ec2.run_instances(
        ImageId=copy_image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )["Instances"][0]["InstanceId"]
    image_id = ec2.create_image(InstanceId=instance_id, Name=f"app-{int(time.time())}")[
        "ImageId"
    ]
    tags = lineage_tags(
        copy_image_id,
        COPY_REGION,
        dt.datetime.now(dt.timezone.utc),
        source_instance=instance_id,
    )
    ec2.create_tags(Resources=[image_id], Tags=dict_to_tags(tags))
    ec2.terminate_instances(InstanceIds=[instance_id])
    with DEMO_IMAGES.open("a") as marker:
        marker.write(f"{image_id}\n")
    return image_id


def print_lineage(outputs: dict) -> None:
    """Print the lineage as a tree, each child under its parent."""
    children: dict[str, list[dict]] = {}
    for node in outputs["lineage"]:
        children.setdefault(node["parent_image_id"], []).append(node)

    def show(image_id: str, indent: str) -> None:
        for node in children.get(image_id, []):
            print(
                f"{indent}└─ {node['image_id']}  {node['region']:<10} "
                f"{node['create_date']}  {node['name']}"
            )
            show(node["image_id"], indent + "    ")

    root = outputs["foundation_image_id"]
    print(f"\n{root}  ({outputs['foundation_region']}, foundation image)")
    show(root, "    ")


def demo() -> None:
    STATE.mkdir(exist_ok=True)
    endpoint = moto_endpoint()
    fresh_server = endpoint is None
    if fresh_server:
        say("starting moto's EC2 server on 127.0.0.1")
        endpoint = start_moto()
    print(f"moto: {endpoint}")
    env = pulumi_environment(endpoint)

    stacks = json.loads(pulumi(env, "stack", "ls", "--json", capture=True))
    if fresh_server and any(stack["name"] == STACK for stack in stacks):
        # The images of that stack lived in a moto server that is gone.
        say(f"removing stack {STACK!r} left from an earlier moto server")
        pulumi(env, "stack", "rm", STACK, "--yes", "--force")
    if fresh_server:
        DEMO_IMAGES.unlink(missing_ok=True)
    pulumi(env, "stack", "select", STACK, "--create")
    pulumi(env, "config", "set", "aws:region", HOME_REGION)

    say("pulumi up: clone the foundation image, copy the clone to eu-west-1")
    pulumi(env, "up", "--yes", "--skip-preview")
    outputs = json.loads(pulumi(env, "stack", "output", "--json", capture=True))

    if DEMO_IMAGES.exists():
        say("outside Pulumi: the image made from an instance exists already")
    else:
        say("outside Pulumi: run an instance of the eu-west-1 copy and image it")
        image_id = make_image_from_instance(env, outputs["copy_image_id"])
        print(f"made {image_id} in {COPY_REGION}, tagged with source_instance")

    say("pulumi up again: the exported lineage now has three generations")
    pulumi(env, "up", "--yes", "--skip-preview")
    outputs = json.loads(pulumi(env, "stack", "output", "--json", capture=True))
    print_lineage(outputs)

    print(
        f"\nmoto's server keeps running at {endpoint} (credentials: demo/demo), so\n"
        "the stack can be inspected; `make demo` again runs `pulumi up` on it again.\n"
        "Destroy the stack and stop the server with: make demo-destroy"
    )


def destroy() -> None:
    endpoint = moto_endpoint()
    if endpoint is None:
        print("the demo's moto server is not running, so there is nothing to destroy")
        return
    env = pulumi_environment(endpoint)

    if DEMO_IMAGES.exists():
        ec2 = demo_ec2(env, COPY_REGION)
        for image_id in DEMO_IMAGES.read_text().split():
            say(f"deregistering {image_id}, an image made outside Pulumi")
            described = ec2.describe_images(ImageIds=[image_id])["Images"]
            ec2.deregister_image(ImageId=image_id)
            for mapping in described[0].get("BlockDeviceMappings", []):
                snapshot = mapping.get("Ebs", {}).get("SnapshotId")
                if snapshot:
                    ec2.delete_snapshot(SnapshotId=snapshot)
        DEMO_IMAGES.unlink()

    say(f"pulumi destroy of stack {STACK!r}")
    pulumi(env, "stack", "select", STACK)
    pulumi(env, "destroy", "--yes", "--skip-preview")
    # The stack's images lived only in this moto server, so its history goes too.
    pulumi(env, "stack", "rm", STACK, "--yes")
    say("stopping moto's server")
    stop_moto()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--destroy", action="store_true", help="destroy the demo stack and stop moto"
    )
    if parser.parse_args().destroy:
        destroy()
    else:
        demo()


if __name__ == "__main__":
    main()

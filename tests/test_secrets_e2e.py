"""No credential reaches the state, the logs or the output; the provider stays small.

The test runs `up`, `refresh` and `destroy` with real-looking dummy
credentials and verbose engine logs, then searches the exported state, the
log files and every line the CLI printed for each credential value.
"""

from __future__ import annotations

import base64
import json
import pickletools
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROGRAMS

pytestmark = pytest.mark.e2e

# Shaped like real values, so that any redaction by shape would not hide a leak.
ACCESS_KEY = "AKIAZ7QEXAMPLE4LEAK1"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLEAKTEST1"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKENleak" + "x" * 40


def provider_pickles(state: dict[str, Any]) -> list[bytes]:
    resources = state["deployment"]["resources"]
    return [
        base64.b64decode(resource["inputs"]["__provider"])
        for resource in resources
        if resource["type"].startswith("pulumi-python:dynamic")
    ]


def test_credentials_stay_out_of_state_logs_and_output(
    make_stack: Any, foundation_image_id: str, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    printed: list[str] = []
    stack = make_stack(
        PROGRAMS / "image_copy",
        {"sourceAmiId": foundation_image_id, "tags": json.dumps({"team": "a"})},
        env={
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
            "TMPDIR": str(logs),
        },
    )

    # Verbose engine logs go to files under TMPDIR, which the test searches.
    results = [stack.up(on_output=printed.append, log_verbosity=9)]
    results.append(stack.refresh(on_output=printed.append, log_verbosity=9))
    state_after_up = stack.export_stack()
    results.append(stack.destroy(on_output=printed.append, log_verbosity=9))
    printed += [result.stderr for result in results]

    texts = {
        "state": json.dumps(state_after_up.__dict__, default=str),
        "output": "\n".join(printed),
        "logs": "\n".join(
            path.read_text(errors="replace")
            for path in logs.rglob("*")
            if path.is_file()
        ),
    }
    found = {
        (where, name): text.count(value)
        for where, text in texts.items()
        for name, value in (
            ("access key", ACCESS_KEY),
            ("secret key", SECRET_KEY),
            ("session token", SESSION_TOKEN),
        )
    }

    assert texts["output"], "the CLI printed nothing to search"
    assert texts["logs"], "the engine wrote no log file to search"
    assert all(count == 0 for count in found.values()), found


def test_serialized_provider_is_a_short_module_reference(
    make_stack: Any, foundation_image_id: str
) -> None:
    stack = make_stack(PROGRAMS / "image_copy", {"sourceAmiId": foundation_image_id})
    stack.up()

    pickles = provider_pickles({"deployment": stack.export_stack().deployment})
    opcodes = [opcode.name for opcode, _arg, _pos in pickletools.genops(pickles[0])]
    strings = [
        arg
        for _opcode, arg, _pos in pickletools.genops(pickles[0])
        if isinstance(arg, str)
    ]

    assert len(pickles) == 1
    assert len(base64.b64encode(pickles[0])) <= 200
    # A module and a class name are all the pickle names: no code, no data.
    assert strings == ["amitools_pulumi.provider", "ImageCopyProvider"]
    assert "STACK_GLOBAL" in opcodes

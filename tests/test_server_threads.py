"""The worker limit of Pulumi's dynamic-provider server, as the provider sets it.

`test_parallel_e2e.py` shows the effect under the real CLI; these tests
cover the setting and the guard against running outside that server.
"""

from __future__ import annotations

import logging
import os
import socket

import pytest

from amitools_pulumi import server_threads


@pytest.mark.parametrize(
    ("value", "expected"), [("", 32), ("8", 8), ("1", 1), (" 64 ", 64)]
)
def test_threads_variable_is_read(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: int
) -> None:
    monkeypatch.setenv(server_threads.THREADS_VARIABLE, value)

    assert server_threads.configured_threads() == expected


@pytest.mark.parametrize("value", ["0", "-3", "many", "2000", "1.5"])
def test_invalid_threads_variable_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    monkeypatch.setenv(server_threads.THREADS_VARIABLE, value)

    with caplog.at_level(logging.WARNING, logger="amitools_pulumi.server_threads"):
        threads = server_threads.configured_threads()

    assert threads == 32
    assert f"{server_threads.THREADS_VARIABLE}={value!r} is invalid" in caplog.text


def test_widen_outside_server() -> None:
    assert server_threads.widen() is None


def test_engine_gone_false_while_engine_listens() -> None:
    with socket.create_server(("127.0.0.1", 0)) as engine:
        address = f"127.0.0.1:{engine.getsockname()[1]}"

        assert server_threads.engine_gone(os.getppid(), address) is False


def test_engine_gone_true_once_engine_port_closes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as engine:
        address = f"127.0.0.1:{engine.getsockname()[1]}"

    assert server_threads.engine_gone(os.getppid(), address) is True


def test_engine_gone_true_after_new_parent() -> None:
    assert server_threads.engine_gone(os.getppid() + 1, None) is True


def test_exit_with_engine_outside_server() -> None:
    assert server_threads.exit_with_engine() is False

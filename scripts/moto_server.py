"""Run moto's EC2 emulation on 127.0.0.1 on a free port until stopped.

Usage: python scripts/moto_server.py PORT_FILE

Writes the chosen port to PORT_FILE once the server is up, then serves until
SIGTERM or SIGINT. The demo runs it in the background so that the stack can be
destroyed later against the same emulated account.
"""

import logging
import signal
import sys
import threading
from pathlib import Path

from moto.server import ThreadedMotoServer


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: moto_server.py PORT_FILE")
    port_file = Path(sys.argv[1])

    # One log line per request would grow the log without bound.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _host, port = server.get_host_and_port()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    port_file.write_text(f"{port}\n")
    try:
        stop.wait()
    finally:
        server.stop()
        port_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A real SMTP server for tests: listens on 127.0.0.1 and saves every message it receives.

    python3 tests/tools/smtp_sink.py --port 0 --dir /tmp/received

Needs aiosmtpd (`pip install aiosmtpd`). With --port 0 the system picks a free port. Once
listening, prints one line `PORT <number>` on standard output, then runs until it is killed
(SIGTERM, SIGINT) or --max-seconds have passed; with --exit-on-stdin-eof, also as soon as its
standard input is closed (the test that started it, holding the other end, has gone), so that it
never outlives a test run.

Message N (from 1) is saved as DIR/N.eml (the DATA as received) and DIR/N.json (the envelope:
{"mail_from": ..., "rcpt_tos": [...]}). Both are written under a temporary name and renamed, the
.json last: once N.json exists, N.eml is complete.
"""

import argparse
import itertools
import json
import os
import signal
import sys
import threading

try:
    from aiosmtpd.controller import Controller
except ImportError:
    sys.stderr.write("smtp_sink.py: aiosmtpd is missing; run: pip install aiosmtpd\n")
    sys.exit(3)


class SaveToDir:
    """aiosmtpd handler writing each message into a folder."""

    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def _write(self, name, data):
        path = os.path.join(self.directory, name)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        content = envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        self._write(f"{n}.eml", content)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        self._write(f"{n}.json", json.dumps(meta).encode("utf-8"))
        return "250 Message accepted for delivery"


class EphemeralPortController(Controller):
    """aiosmtpd's Controller connects to self.port to check that the server is up, which fails
    with port 0: take the port the system actually chose first."""

    def _trigger_server(self):
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--dir", required=True, help="folder receiving the messages")
    parser.add_argument(
        "--max-seconds", type=float, default=600.0, help="stop by itself after this long"
    )
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when standard input reaches end of file",
    )
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    controller = EphemeralPortController(
        SaveToDir(args.dir), hostname="127.0.0.1", port=args.port, decode_data=False
    )
    controller.start()

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def watch_stdin():
        # Returns at end of file: whoever started us is gone (or closed the pipe on purpose).
        try:
            while sys.stdin.buffer.read(1024):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()

    print(f"PORT {controller.port}", flush=True)
    try:
        stop.wait(timeout=args.max_seconds)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

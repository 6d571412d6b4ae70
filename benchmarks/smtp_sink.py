"""A local SMTP sink for the notification benchmark: accepts every message and appends its Message-ID
(one a line) to a file, so the harness can count delivered, lost and duplicated messages.

    python -m benchmarks.smtp_sink --port 8025 --out /tmp/sink.txt
"""

from __future__ import annotations

import argparse
import asyncio
import email
import signal

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self, path: str) -> None:
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 (open for the sink's lifetime)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        msg = email.message_from_bytes(envelope.original_content or envelope.content)
        self.out.write(f"{msg.get('Message-ID', '<none>')}\n")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    controller = Controller(CountingHandler(args.out), hostname="127.0.0.1", port=args.port)
    controller.start()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp sink on 127.0.0.1:{args.port}", flush=True)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()

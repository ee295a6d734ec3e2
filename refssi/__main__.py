"""python -m refssi: serve the reference SSI (used by the harness's launcher).

Reads this run's generated secrets from --secrets-file (then deletes the file),
binds a loopback socket (port 0 = any free port) and prints one line
'REFSSI READY <url> <smtp-port>' on stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import uvicorn

from .app import create_app
from .settings import Settings


def bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only for
    # sockets that say they are TCP; without it every keep-alive response waits ~40 ms
    # (Nagle's algorithm against delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


PARENT_GONE = threading.Event()


def exit_with_stdin(server: uvicorn.Server, cleanup: Path | None = None) -> None:
    """Stop the server when stdin reaches end-of-file: the harness that started it holds the only write end,
    so this happens when the harness stops it or dies (kill -9 included). Then its folder is removed."""

    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        PARENT_GONE.set()
        server.should_exit = True
        if not threading.Event().wait(10):  # a graceful stop that hangs still ends
            if cleanup:
                shutil.rmtree(cleanup, ignore_errors=True)
            os._exit(0)

    threading.Thread(target=watch, name="refssi-parent-watch", daemon=True).start()


def serve(*, host: str, port: int, profile: str, secrets: dict, operator_token: str, db_dir: Path,
          on_ready=None, tls: tuple[str, str] | None = None, watch_stdin: bool = False,
          party_keys: dict[str, list[str]] | None = None) -> None:
    sock = bind(host, port)
    url = f"{'https' if tls else 'http'}://{host}:{sock.getsockname()[1]}"
    settings = Settings.from_env(profile=profile, db_path=db_dir / "refssi.sqlite3", secrets=secrets,
                                 operator_token=operator_token, server_key=os.urandom(32))
    settings = replace(settings, party_keys=party_keys or {})

    def ready(s: Settings) -> None:
        if on_ready:
            on_ready(url, s)

    app = create_app(settings, on_ready=ready)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None)
    server = uvicorn.Server(config)
    if watch_stdin:
        exit_with_stdin(server, db_dir)
    server.run(sockets=[sock])


def settings_ok(profile: str) -> None:
    """Raise ValueError when a REFSSI_* setting is bad, before anything starts."""
    Settings.from_env(profile=profile, db_path=Path(os.devnull), secrets={}, operator_token="", server_key=b"")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m refssi")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--profile", default="reference")
    ap.add_argument("--secrets-file", required=True)
    ap.add_argument("--db-dir")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM); needs --tls-key")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    ap.add_argument("--exit-with-stdin", action="store_true",
                    help="stop when stdin ends (the parent's pipe), then remove --db-dir")
    args = ap.parse_args(argv)
    path = Path(args.secrets_file)
    data = json.loads(path.read_text())
    path.unlink()

    def announce(url: str, s: Settings) -> None:
        print(f"REFSSI READY {url} {s.smtp_port}", flush=True)

    try:
        settings_ok(args.profile)
    except ValueError as err:  # a bad REFSSI_* setting: one line, exit 2
        print(f"refssi: {err}", file=sys.stderr)
        return 2
    db_dir = Path(args.db_dir) if args.db_dir else Path(tempfile.mkdtemp(prefix="refssi-"))
    try:
        serve(host=args.host, port=args.port, profile=args.profile, secrets=data["secrets"],
              operator_token=data["operator_token"], db_dir=db_dir, on_ready=announce,
              party_keys=data.get("party_keys", {}),
              tls=(args.tls_cert, args.tls_key) if args.tls_cert else None, watch_stdin=args.exit_with_stdin)
    finally:
        if PARENT_GONE.is_set():  # nobody is left to remove it
            shutil.rmtree(db_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`uept serve`: the reference SSI alone, as a process of its own, with the demo personas printed."""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

from ssi.errors import UsageError
from ssi.seed import load_seed
from uept.cli.common import REFSSI_ENV_HELP, say
from uept.runtime.reference import EmbeddedSSI, LaunchError, chosen_settings


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    # Ctrl-C and `kill` stop the server even when the shell that started us ignored SIGINT (a background job of a
    # script does): Python leaves an inherited "ignore" as it is.
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, _stop)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a port is a number from 0 to 65535", "e.g. --port 8765, or 0 for any "
                         "free port")
    if not 0 <= args.incidents <= 5_000_000:
        raise UsageError(f"--incidents {args.incidents}: give a number from 0 to 5000000",
                         "e.g. --incidents 300000 for one year of DCC volume")
    if args.incidents:
        say(f"uept: generating {args.incidents} incidents before the server starts ...")
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    env_file = state / "serve.env"
    ssi = EmbeddedSSI(profile=args.profile, host=args.host, port=args.port,
                      overrides={**chosen_settings(), **({"bulk_incidents": args.incidents} if args.incidents else {})},
                      startup_timeout=30.0 + args.incidents / 2000)
    try:
        running = ssi.start()
    except LaunchError as exc:
        if "address already in use" in str(exc).lower():
            raise UsageError(f"cannot listen on {args.host}:{args.port} (address already in use)",
                             "choose another port with --port, or --port 0 for any free one") from None
        raise UsageError(str(exc), "see the message above, or run with UEPT_DEBUG=1") from None
    try:
        url = running.url
        values = dict(running.env)  # the URL, the operator token, the personas' secrets, the signing keys
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{k}={json.dumps(v)}\n" for k, v in values.items())
        say(f"Reference SSI running at {url}  (portal: {url}/sp, classic login: {url}/login.do)")
        entra = url.replace(args.host, os.environ.get("REFSSI_ENTRA_HOST", "login.microsoftonline.localhost"), 1)
        say(f"Microsoft Entra ID sign-in (imitated): {entra} for browsers on this machine "
            "(the portal login page's 'Use external login')")
        if args.incidents:
            import httpx

            stats = httpx.get(f"{url}/_operator/incidents/stats", timeout=60,
                              headers={"Authorization": f"Bearer {running.operator_token}"}).json()["bulk_seed"]
            say(f"Generated {stats.get('incidents')} incidents across {stats.get('organisations')} organisations "
                f"in {stats.get('seconds')} s (benchmark data).")
        say("Demo personas (organisation: user name, Job Type Roles, second factor):")
        for p in load_seed().personas:
            mfa = {"totp": "authenticator app", "email": "emailed code", "none": "sets up MFA at first login"}[p.mfa]
            if p.identity == "entra":
                mfa = f"signs in at Microsoft Entra ID ({mfa})"
            line = f"  {p.persona:<26} {p.organisation}: {p.user_name:<12} {','.join(p.roles):<4} {mfa}"
            if args.show_secrets:
                line += f"  password={running.secrets[p.persona]['password']}"
                if "totp_seed" in running.secrets[p.persona]:
                    line += f" authenticator key={running.secrets[p.persona]['totp_seed']}"
            say(line)
        say(f"Passwords and authenticator keys for this server: {env_file} (mode 600; use --show-secrets to print).")
        say(f"Emailed codes: {url}/_mailsink/api/v1/messages (Authorization: Bearer $UEPT_REF_OPERATOR_TOKEN).")
        say(f"Run the suite against it: set -a; . {env_file}; set +a; uept run --target {url}")
        say("Press Ctrl-C to stop.")
        running.process.wait()
        tail = running.log_tail().splitlines()
        raise UsageError("the reference SSI stopped" + (f": {tail[-1]}" if tail else ""),
                         "run `uept serve` again; set UEPT_DEBUG=1 for more") from None
    except KeyboardInterrupt:  # Ctrl-C or kill at any moment once the server runs: a clean stop
        say("uept: stopping the reference SSI")
        return 0
    finally:
        env_file.unlink(missing_ok=True)
        running.stop()


def add_parser(sub) -> None:
    serve = sub.add_parser("serve", help="run the reference SSI alone and print its URL and demo personas",
                           epilog=REFSSI_ENV_HELP)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    serve.add_argument("--profile", default="reference", help="target profile (default: reference)")
    serve.add_argument("--state-dir", default=".uept", help="where the secrets file goes (default: .uept)")
    serve.add_argument("--show-secrets", action="store_true", help="also print passwords and authenticator keys")
    serve.add_argument("--incidents", type=int, default=0, metavar="N",
                       help="first generate N incidents across organisations (benchmarks; 300000 = a year of volume)")
    serve.set_defaults(func=cmd_serve)



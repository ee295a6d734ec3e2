"""The evidence commands: report, verify, merge, unpack, summarize, key; and what the end of `uept run` says."""

from __future__ import annotations

import argparse
import html
import json
import os
import time
from pathlib import Path
from typing import Any

from ssi.errors import UsageError
from uept.cli.common import say, shielded
from uept.runtime import config


def produce_evidence(run_dir: Path, settings: config.Settings | None, catalogue_path: str | None = None,
                     pdf: bool = True, salvage: bool = False, printer: Any = None) -> tuple[bool, Any]:
    """make_evidence, saying what it made. Returns (ok, report)."""
    from uept.evidence.bundle import make_evidence  # here: the command line starts without the report's modules

    t0 = time.monotonic()
    report, pack = make_evidence(run_dir, settings, catalogue_path, pdf, salvage, log=say, printer=printer)
    for d in report.summary.get("damaged") or []:
        say(f"uept: DAMAGED: {d['file']} ({d['why']}); the report lists it and the verdict cannot be COMPLETE")
    for note in report.notes:
        say(f"uept: {note}")
    v = report.summary["verdict"]
    say(f"Exit criteria for User Role {v['role']}: {v['result']} "
        f"({v['mandatory_passed']} of {v['mandatory']} mandatory scenario(s) passed)")
    for f in v.get("flaky") or []:
        rule = f"counts as {f['counts_as']}" if f["mandatory"] else "not mandatory"
        say(f"  flaky: {f['id']} failed, then passed on a retry ({rule}): {f['name']}")
    ran = [b for b in v["blocking"] if b["status"] != "not selected"]
    for b in ran[:10]:
        say(f"  blocking: {b['id']} {b['status']}: {b['name']}")
    if len(ran) > 10:
        say(f"  ... and {len(ran) - 10} more (see the report)")
    left_out = [b["id"] for b in v["blocking"] if b["status"] == "not selected"]
    if left_out:
        say(f"  {len(left_out)} mandatory scenario(s) were not part of this run: {', '.join(left_out[:8])}"
            + (" ..." if len(left_out) > 8 else ""))
    for r in v["reasons"]:
        if "mandatory scenario(s) did not pass" not in r:
            say(f"  {r}")
    say(f"Report: {run_dir / 'report.html'}" + (f"  (PDF: {report.pdf.name})" if report.pdf else ""))
    if pack.leaks:
        for leak in pack.leaks[:10]:
            say(f"uept: SECRET IN THE EVIDENCE: {leak}")
        say("uept: the evidence pack was NOT made because the run folder holds a secret (see above); "
            "remove those files, then run `uept report` on the folder")
        return False, report
    say(f"Evidence pack: {pack.zip_path}  (signed by {pack.manifest['signer']['fingerprint']}; "
        f"{len(pack.manifest['files'])} files; {time.monotonic() - t0:.1f}s)")
    if pdf and report.pdf is None:
        say(f"uept: the report is incomplete: report.pdf was not made; run `uept report {run_dir}` again "
            "(or give --no-pdf to do without it)")
        return False, report
    return True, report


# ---------------------------------------------------------------- uept report
def cmd_report(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    if not (run_dir / "scenarios").is_dir() and not (run_dir / "run.json").is_file():
        raise UsageError(f"{run_dir} is not a uept run folder (no run.json, no scenarios/)",
                         "give a folder under reports/, e.g. reports/<run-id>")
    settings = config.load_settings(config.config_path(args.config))
    ok, _ = produce_evidence(run_dir, settings, args.catalogue, pdf=not args.no_pdf, salvage=args.salvage)
    return 0 if ok else 1


# ---------------------------------------------------------------- uept verify
def cmd_verify(args: argparse.Namespace) -> int:
    from uept.evidence.pack import print_verification, verify

    code = 0
    for p in args.packs:
        v = verify(Path(p), args.key, Path(args.catalogue) if args.catalogue else None,
                   completeness=not args.no_completeness)
        print_verification(v, say)
        code = code or (0 if v.ok else 1)
        if len(args.packs) > 1:
            say()
    return code


# ---------------------------------------------------------------- uept unpack
def cmd_unpack(args: argparse.Namespace) -> int:
    from uept.evidence.pack import unpack

    pack, dest = Path(args.pack), Path(args.dest)
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"{dest} exists and is not empty", "give a new or empty folder")
    if not pack.is_file():
        raise UsageError(f"{pack} not found", "give an evidence pack (.zip)")
    unreadable = unpack(pack, dest)
    for member, why in unreadable.items():
        say(f"uept: {member}: {why}")
    say(f"Unpacked {pack} into {dest}/ (every copy restored). Check it with: uept verify {dest}")
    return 1 if unreadable else 0


# ---------------------------------------------------------------- uept key
def cmd_key(args: argparse.Namespace) -> int:
    from uept.evidence.bundle import signing_key
    from uept.evidence.pack import fingerprint, key_path, public_pem

    settings = config.load_settings(config.config_path(args.config))
    key = signing_key(settings, say)
    path, _ = key_path(settings.signing_key)
    say(f"Signing key: {path}")
    say(f"Fingerprint: {fingerprint(key.public_key())}")
    say("Public key (give this to DCC; it verifies your packs with `uept verify PACK --key FILE`):")
    say(public_pem(key.public_key()).rstrip())
    return 0


# ---------------------------------------------------------------- uept merge
def cmd_merge(args: argparse.Namespace) -> int:
    from uept.evidence.merge import merge_runs

    settings = config.load_settings(config.config_path(args.config))
    reports = Path(args.reports or os.environ.get("UEPT_REPORTS_DIR") or settings.reports_dir)
    out = merge_runs([Path(d) for d in args.dirs], reports, Path(args.output) if args.output else None, log=say,
                     keys=args.key, allow_different_targets=args.allow_different_targets,
                     allow_different_signers=args.allow_different_signers)
    say(f"Merged {len(args.dirs)} run folder(s) into {out}")
    with shielded("uept: writing the report and the evidence pack; please wait"):
        ok, report = produce_evidence(out, settings, args.catalogue, pdf=not args.no_pdf)
    counts = report.summary["counts"]
    say(f"{report.summary['results_total']} scenario result(s): "
        + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"))
    return 0 if ok else 1


# ---------------------------------------------------------------- uept summarize
def cmd_summarize(args: argparse.Namespace) -> int:
    from uept.evidence.pack import verify

    rows = []
    for p in args.packs:
        v = verify(Path(p), None, Path(args.catalogue) if args.catalogue else None, scan=not args.quick)
        s = v.summary or {}
        party = s.get("party") or (v.manifest or {}).get("party") or {}
        failed = [sc["id"] for sc in s.get("scenarios", []) if sc.get("status") in ("failed", "error")]
        comp = next((c for c in v.checks if c.name == "completeness"), None)
        integrity = all(c.ok for c in v.checks if c.name in ("signature", "hashes", "secrets", "pack"))
        verdict = (s.get("verdict") or {}).get("result") or "?"
        if comp is not None and not comp.ok and verdict == "COMPLETE":
            verdict = "INCOMPLETE"  # the pack claims more than its result files show
        run, cov, ver = s.get("run") or {}, s.get("coverage") or {}, s.get("verdict") or {}
        rows.append({
            "pack": str(p), "party": party.get("name") or "?", "sec_party_id": party.get("sec_party_id") or "?",
            "role": party.get("user_role") or "?", "verdict": verdict,
            "date": (run.get("ended") or run.get("started") or "?")[:10],
            "coverage": f"{cov.get('covered', 0)}/{cov.get('requirements', 0)}",
            "mandatory": f"{ver.get('mandatory_passed', 0)}/{ver.get('mandatory', 0)}",
            "failures": failed, "integrity": "verified" if integrity else "NOT VERIFIED",
            "signer": ((v.manifest or {}).get("signer") or {}).get("fingerprint", "?"),
            "problems": [line for c in v.checks if not c.ok for line in c.lines][:5],
        })
    headers = ["PARTY", "ID", "ROLE", "VERDICT", "DATE", "MANDATORY", "COVERAGE", "FAILURES", "PACK"]
    table = [[r["party"], r["sec_party_id"], r["role"], r["verdict"], r["date"], r["mandatory"], r["coverage"],
              ", ".join(r["failures"][:4]) + (" ..." if len(r["failures"]) > 4 else "") or "-", r["integrity"]]
             for r in rows]
    widths = [max(len(h), *(len(str(row[i])) for row in table)) for i, h in enumerate(headers)]
    for line in [headers, *table]:
        say("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    out = Path(args.html)
    out.write_text(_summary_html(rows), encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    say(f"\n{len(rows)} pack(s); {sum(r['verdict'] == 'COMPLETE' for r in rows)} COMPLETE; "
        f"{sum(r['integrity'] != 'verified' for r in rows)} failed verification. HTML: {out}")
    return 0 if all(r["integrity"] == "verified" for r in rows) else 1


def _summary_html(rows: list[dict]) -> str:
    e = html.escape
    body = "".join(
        f"<tr><td>{e(r['party'])}</td><td>{e(r['sec_party_id'])}</td><td>{e(r['role'])}</td>"
        f"<td class='{e(r['verdict'])}'>{e(r['verdict'])}</td><td>{e(r['date'])}</td><td>{e(r['mandatory'])}</td>"
        f"<td>{e(r['coverage'])}</td><td>{e(', '.join(r['failures'])) or '-'}</td>"
        f"<td class='{'ok' if r['integrity'] == 'verified' else 'bad'}'>{e(r['integrity'])}"
        f"{''.join('<div class=small>' + e(p) + '</div>' for p in r['problems'])}</td>"
        f"<td class=small>{e(r['signer'])}<br>{e(r['pack'])}</td></tr>" for r in rows)
    return f"""<!doctype html><html lang="en-GB"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>UEPT evidence packs: summary</title><style>
body {{ font: 14px/1.4 Arial, sans-serif; margin: 24px; color: #1f2a33; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #cfd5db; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #eef1f4; }} .COMPLETE, .ok {{ color: #1b5e20; font-weight: 700; }}
.INCOMPLETE, .bad {{ color: #8e0016; font-weight: 700; }}
.small {{ font-size: 12px; color: #56636e; font-weight: normal; overflow-wrap: anywhere; }}
</style></head><body><h1>UEPT evidence packs</h1>
<p>{len(rows)} pack(s), generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by uept summarize.
Verdict: the exit-criteria verdict for the party's User Role, recomputed from each pack's result files.
Pack: signature, SHA-256 of every file and the secret scan.</p>
<table><thead><tr><th>Party</th><th>SEC Party ID</th><th>User Role</th><th>Verdict</th><th>Date</th>
<th>Mandatory passed</th><th>Requirement coverage</th><th>Failures</th><th>Pack</th><th>Signer / file</th></tr></thead>
<tbody>{body}</tbody></table></body></html>
"""


def add_commands(sub: Any) -> None:
    """Register the evidence commands on uept's argument parser."""
    rep = sub.add_parser("report", help="regenerate the report, exports and signed pack of a run folder",
                         description="Rebuild summary.json, report.html/.pdf, cucumber.json, the Allure metadata "
                         "and the signed evidence pack from a run folder's result files.")
    rep.add_argument("run_dir", metavar="RUN_DIR", help="a run folder, e.g. reports/<run-id>")
    rep.add_argument("--catalogue", help="scenario catalogue (default: $UEPT_SCENARIO_CATALOGUE, the config's, "
                     "or uept's own)")
    rep.add_argument("--no-pdf", action="store_true", help="skip report.pdf")
    rep.add_argument("--salvage", action="store_true",
                     help="make the report even when a record file (run.json, scenario-set.json, a result.json) is "
                          "damaged: the report lists each damaged file and the verdict is INCOMPLETE (without it, "
                          "a damaged file stops the command, exit 2)")
    rep.add_argument("--config", help="config file (for the signing key)")
    rep.set_defaults(func=cmd_report)

    ver = sub.add_parser("verify", help="check an evidence pack: hashes, signature, completeness, secrets",
                         description="Check every file's SHA-256 and the Ed25519 signature, that every mandatory "
                         "scenario for the declared User Role is present and passed, and that no secret-shaped "
                         "value is in any file (traces unzipped). Exit 0 verified, 1 not.")
    ver.add_argument("packs", nargs="+", metavar="PACK", help="evidence pack .zip (or an unzipped pack folder)")
    ver.add_argument("--key", help="the party's registered public key: PEM file, Base64 or SHA256: fingerprint")
    ver.add_argument("--catalogue", help="scenario catalogue to judge completeness by (default: uept's own)")
    ver.add_argument("--no-completeness", action="store_true", help="check integrity and secrets only")
    ver.set_defaults(func=cmd_verify)

    mer = sub.add_parser("merge", help="join the run folders of shards or parallel runs into one signed pack",
                         description="Join run folders (or evidence packs) of shards of one UEPT run into a new "
                         "run folder with one report and one signed pack. Every input is verified first (every "
                         "file's SHA-256 and the signature); one that does not verify, or was never signed, is "
                         "refused, as are inputs of different parties, scenario sets, targets or signers.")
    mer.add_argument("dirs", nargs="+", metavar="DIR", help="run folders or evidence packs to join")
    mer.add_argument("--key", action="append", metavar="PUBLIC_KEY",
                     help="the party's registered public key every input must be signed by (PEM file, Base64 or "
                          "SHA256: fingerprint); repeat it once per input, in order, for inputs signed by different "
                          "keys")
    mer.add_argument("--allow-different-targets", action="store_true",
                     help="join runs against different target URLs or environments")
    mer.add_argument("--allow-different-signers", action="store_true",
                     help="join inputs signed by different keys (give --key per input to check each)")
    mer.add_argument("-o", "--output", help="the merged run folder (default: reports/<new-run-id>)")
    mer.add_argument("--reports", help="where the merged run folder goes (default: ./reports)")
    mer.add_argument("--catalogue", help="scenario catalogue (default: uept's own)")
    mer.add_argument("--no-pdf", action="store_true", help="skip report.pdf")
    mer.add_argument("--config", help="config file (for the signing key)")
    mer.set_defaults(func=cmd_merge)

    unp = sub.add_parser("unpack", help="extract an evidence pack into a folder, every file restored",
                         description="Extract a pack into a new folder as the run folder it was: the trace parts "
                         "and the scenarios' and Allure's records come out of the pack's records.tar.xz "
                         "(traces.tar.xz in packs of format 3), and a file whose bytes another file holds is stored "
                         "once in the pack and copied back to each of its paths (e.g. for `allure generate "
                         "DEST/allure-results`). It does not verify: run `uept verify`.")
    unp.add_argument("pack", metavar="PACK")
    unp.add_argument("dest", metavar="DEST")
    unp.set_defaults(func=cmd_unpack)

    summ = sub.add_parser("summarize", help="one table (and HTML page) across many parties' evidence packs",
                          description="For DCC: party, role, verdict, date, coverage and failures of every pack, "
                          "each pack verified. Exit 0 when every pack verifies, 1 otherwise.")
    summ.add_argument("packs", nargs="+", metavar="PACK")
    summ.add_argument("--html", default="uept-summary.html", help="HTML page to write (default: uept-summary.html)")
    summ.add_argument("--json", help="also write the table as JSON here")
    summ.add_argument("--catalogue", help="scenario catalogue (default: uept's own)")
    summ.add_argument("--quick", action="store_true", help="skip the secret scan")
    summ.set_defaults(func=cmd_summarize)

    key = sub.add_parser("key", help="show (creating on first use) the party's evidence signing key",
                         description="Print the public half of the Ed25519 key that signs evidence packs: "
                         "UEPT_SIGNING_KEY, signing_key in the config, or .uept/signing-key.pem.")
    key.add_argument("--config", help="config file")
    key.set_defaults(func=cmd_key)


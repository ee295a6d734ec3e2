"""`uept probe`: check a target before a mandated run, page by page and locator by locator, changing nothing.

Signs in once per chosen persona, opens every page the page objects use, and reports each locator as found
once, missing (with the nearest labels on the page) or ambiguous, each choice list against the profile's,
and the facts a run depends on (portal generation, clock, Table API, sign-in). Writes
reports/probe-<target>-<time>/ (probe.json, probe.html, a masked screenshot and an ARIA snapshot per page).
Exit status: 0 everything resolves exactly once; 1 something does not (one line per problem); 2 bad input.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ssi.errors import UsageError
from uept.cli.common import REFSSI_ENV_HELP, say, suite_root, writable_folder
from uept.runtime import browser, config
from uept.runtime.secrets import REGISTRY, Secret

# Portal suffixes ServiceNow instances commonly use, tried when the profile's answers 404.
SUFFIXES = ["/sp", "/ssi", "/csm", "/esc", "/portal"]


def problems_of(result: dict[str, Any]) -> list[str]:
    """One line per thing a run would trip over."""
    out: list[str] = list(result.get("target_problems", []))
    reports = [("anonymous", r) for r in result["anonymous"]]
    for p in result["personas"]:
        if not p.get("signed_in", True):
            out.append(f"persona {p['persona']}: {p['problem']}")
        reports += [(p["persona"], r) for r in p["pages"]]
        api = str(p.get("table_api", "open"))
        if p["identity"] == "local" and api != "open" and not api.startswith("not offered"):
            out.append(f"persona {p['persona']}: the Table API answers {p['table_api']} (the cross-checks need it)")
    for who, r in reports:
        if r["status"] == "not reached":
            out.append(f"{r['name']} ({who}): not reached: {r['note']}")
        for item in r.get("items", []):
            what = f"{r['name']} ({who}): {item['key']}"
            label = f' "{item["label"]}"' if item.get("label") else ""
            if item["status"] == "missing":
                near = ", ".join(f'"{n}"' for n in item.get("nearest") or [])
                out.append(f"{what}{label} not found" + (f"; the page has {near}" if near else ""))
            elif item["status"] == "label differs":
                own = ", ".join(f'"{n}"' for n in item.get("nearest") or [])
                out.append(f"{what}{label} not found as a label (found only by its sp_formfield_ id)"
                           + (f"; the field's label on the page is {own}" if own else ""))
            elif item["status"] == "ambiguous":
                out.append(f"{what}{label} matches {item['count']} elements")
            elif item["status"] == "choices differ":
                ch = item["choices"]
                near = "; ".join(f'"{m}" (nearest: {", ".join(repr(x) for x in n) or "none"})'
                                 for m, n in item.get("nearest_choices", {}).items())
                out.append(f"{what}: choices in the profile ({ch['profile_key']}) not on the page: {near}")
    clock = result.get("clock", {})
    if str(clock.get("authenticator_codes", "fine")).startswith("at risk"):
        out.append(f"clock: {clock['authenticator_codes']}")
    return list(dict.fromkeys(out))


def check_suffix(url: str, profile) -> tuple[list[str], str | None]:
    """(problems, a suffix that answers instead): the profile's portal suffix must answer with its login page;
    when it does not, the suffixes ServiceNow instances commonly use are tried, so the probe can go on."""
    import httpx

    suffix, login = profile.portal.suffix, profile.portal.login_page
    with httpx.Client(base_url=url, timeout=15, follow_redirects=True) as c:
        try:
            if c.get(f"{suffix}?id={login}").status_code < 400:
                return [], None
            found = [s for s in SUFFIXES if s != suffix and c.get(f"{s}?id={login}").status_code < 400]
        except httpx.HTTPError as exc:
            return [f"portal.suffix {suffix}: {exc.__class__.__name__}"], None
    if not found:
        return [f'portal.suffix "{suffix}" not found on the target ({suffix}?id={login} answers 404)'], None
    return [f'portal.suffix "{suffix}" not found on the target ({suffix}?id={login} answers 404); "{found[0]}" '
            f"answers (probed with it)"], found[0]


def suggest_profile(source: str, result: dict[str, Any], dest: Path) -> int:
    """A draft of the profile with what the probe found in place of what it did not: a missing label becomes
    its likeliest candidate, a choice list that differs becomes the page's, a suffix that did not answer the
    one that did. For a person to review and diff; the number of changes made."""
    from ssi.errors import read_yaml
    from ssi.profile import PROFILES_DIR

    path = Path(source) if Path(source).suffix else PROFILES_DIR / f"{source}.yaml"
    data = read_yaml(path, "profile") or {}
    changes = 0

    def put(dotted: str, value: Any) -> None:
        nonlocal changes
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if node.get(last) != value:
            node[last] = value
            changes += 1

    reports = result["anonymous"] + [r for p in result["personas"] for r in p["pages"]]
    for r in reports:
        for item in r.get("items", []):
            key = item["key"]
            if item["status"] in ("missing", "label differs") and key.startswith("labels.") and item.get("nearest"):
                put(key, item["nearest"][0])
            elif item["status"] == "choices differ" and "." in (item["choices"]["profile_key"] or "") \
                    and not item["choices"]["profile_key"].startswith("labels.") \
                    and "[" not in item["choices"]["profile_key"]:  # a list entry's: for the person to edit
                ck, options = item["choices"]["profile_key"], item["choices"]["options"]
                node = data
                for part in ck.split("."):
                    node = node.get(part, {}) if isinstance(node, dict) else {}
                plain = isinstance(node, list) and node and isinstance(node[0], str)
                put(ck, [o["label"] for o in options] if plain else
                    [{"value": o["value"], "label": o["label"]} for o in options])
    for problem in result.get("target_problems", []):
        if "answers (probed with it)" in problem:
            put("portal.suffix", problem.split('"')[3])
    import yaml

    dest.write_text("# A draft written by `uept probe --suggest-profile` from what the target showed: review it,\n"
                    f"# diff it against {path}, and keep what is right.\n"
                    + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return changes


def write_html(out: Path, result: dict[str, Any], problems: list[str]) -> None:
    e = html.escape
    rows = []
    for who, reports in [("anonymous", result["anonymous"])] + [(p["persona"], p["pages"]) for p in result["personas"]]:
        for r in reports:
            for item in r.get("items", []) or [{"key": "—", "status": r["status"], "count": "", "matched_by": []}]:
                rows.append(f"<tr><td>{e(who)}</td><td>{e(r['name'])}</td><td>{e(item['key'])}</td>"
                            f"<td>{e(str(item.get('label') or ''))}</td><td>{e(str(item['count']))}</td>"
                            f"<td>{e(item['status'])}</td><td>{e(', '.join(item.get('matched_by') or []))}</td>"
                            f"<td>{e(', '.join(item.get('nearest') or []))}</td></tr>")
    facts = "".join(f"<li>{e(k)}: {e(str(v))}</li>" for k, v in [
        ("target", f"{result['target']['name']} ({result['target']['url']})"),
        ("portal generation", result["generation"]), ("clock", result.get("clock")),
        *[(f"persona {p['persona']}", f"{p['identity']} identity, {p['mfa']} codes, signed in: "
           f"{p.get('signed_in')}, Table API: {p.get('table_api', '—')}") for p in result["personas"]]])
    verdict = "Every locator resolves exactly once." if not problems else f"{len(problems)} problem(s)."
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>uept probe</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:.2em .5em;font-size:.9em}}</style></head><body><h1>uept probe: {e(result['target']['name'])}</h1>
<p>{e(verdict)}</p><ul>{''.join(f'<li>{e(p)}</li>' for p in problems)}</ul><h2>Target facts</h2><ul>{facts}</ul>
<h2>Locators</h2><table><thead><tr><th>Who</th><th>Page</th><th>Profile key</th><th>Label</th><th>Count</th>
<th>Status</th><th>Found by</th><th>Nearest on the page</th></tr></thead><tbody>{''.join(rows)}</tbody></table>
<p>Screenshots (masked) and ARIA snapshots of each page: pages/.</p></body></html>"""
    (out / "probe.html").write_text(page, encoding="utf-8")


def print_table(result: dict[str, Any]) -> None:
    say(f"{'WHO':<22} {'PAGE':<16} {'STATUS':<12} FOUND")
    for who, reports in [("anonymous", result["anonymous"])] + [(p["persona"], p["pages"]) for p in result["personas"]]:
        for r in reports:
            items = r.get("items", [])
            ok = sum(1 for i in items if i["status"] == "ok")
            say(f"{who:<22} {r['name']:<16} {r['status']:<12} {ok}/{len(items)} locator(s) once"
                + (f"  ({r['note']})" if r.get("note") else ""))


def expose(server_env: dict[str, str]) -> None:
    """Register the embedded server's secrets (so nothing printed or written can show them) and make them the
    process's, where the personas' passwords and the mail sink token are read."""
    for k, v in server_env.items():
        if k != "UEPT_TARGET_URL":
            Secret(v, f"reference SSI secret {k}")
    os.environ.update(server_env)


def probe_target(settings, resolved, url: str, chromium, reports: Path, page_names: list[str],
                 persona_keys: list[str] | None = None) -> tuple[Path, dict[str, Any], list[str], list]:
    """Probe a target that answers at `url`: (the probe folder, the findings, one line per problem, leaks).
    Writes probe.json, probe.html and pages/ into reports/probe-<target>-<time>/ and scans them for secrets."""
    from fixtures.probe import default_personas, run_probe
    from uept.evidence.leakscan import scan_files
    from uept.runtime.target import TargetSession

    target = TargetSession(settings, resolved, url)
    profile = target.profile
    suffix_problems, suffix = check_suffix(url, profile)
    if suffix:  # probe the rest with the suffix that answers, so that the other problems show too
        target.__dict__["profile"] = profile.model_copy(
            update={"portal": profile.portal.model_copy(update={"suffix": suffix})})
    personas = persona_keys or default_personas(target)
    for key in personas:
        target.persona(key).password()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = reports / f"probe-{resolved.name}-{stamp}"
    n = 1
    while out.exists():
        n += 1
        out = reports / f"probe-{resolved.name}-{stamp}-{n}"
    out.mkdir(parents=True)
    say(f"uept probe: {resolved.name} ({url}) as {', '.join(personas)}; pages: {', '.join(page_names)}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(**chromium.launch_args(headless=True))
        try:
            context_args = {"base_url": url, "viewport": {"width": 1280, "height": 800}, "locale": "en-GB",
                            "timezone_id": "Europe/London", "service_workers": "block"}
            result = run_probe(target, b, context_args, out, personas, page_names)
        finally:
            b.close()
    result["target_problems"] = suffix_problems
    problems = problems_of(result)
    result["problems"] = problems
    (out / "probe.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    write_html(out, result, problems)
    names = [str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()]
    leaks = list(scan_files(out, names, REGISTRY.items()))
    return out, result, problems, leaks


def cmd_probe(args: argparse.Namespace) -> int:
    from ssi.profile import load_profile

    suite = suite_root()
    cfg_path = config.config_path(args.config)
    settings = config.load_settings(cfg_path)
    resolved = config.resolve_target(settings, args.target)
    profile = load_profile(resolved.target.profile)
    chromium = browser.resolve()
    chromium.check(headless=True)
    sys.path.insert(0, str(suite))
    from pages.inventory import PAGE_NAMES
    from uept.runtime.target import check_is_ssi, check_reachable

    wanted_pages = list(PAGE_NAMES) if not args.pages or args.pages == ["all"] else args.pages
    unknown = [p for p in wanted_pages if p not in PAGE_NAMES]
    if unknown:
        raise UsageError(f'--pages: no page "{unknown[0]}"', f"use all, or some of: {', '.join(PAGE_NAMES)}")
    for key in args.persona or []:
        if key not in resolved.target.personas:
            known = ", ".join(f'"{k}"' for k in sorted(resolved.target.personas))
            raise UsageError(f'--persona: target {resolved.name} has no persona "{key}"', f"use one of {known}")
        if resolved.target.personas[key].first_login:
            raise UsageError(f'--persona "{key}" has never logged in: signing in would set up its MFA and use up the '
                             "first login its scenarios need", "choose a persona that has logged in before")
    if args.suggest_profile:
        dest = Path(args.suggest_profile).expanduser()
        if dest.is_dir() or not dest.parent.is_dir() or not os.access(dest.parent, os.W_OK):
            raise UsageError(f"--suggest-profile {dest}: cannot write a file there",
                             "give a file path in a folder you can write to, e.g. ./dcc-draft.yaml")
    reports = writable_folder(Path(args.reports or os.environ.get("UEPT_REPORTS_DIR") or settings.reports_dir),
                              "reports folder", "--reports or UEPT_REPORTS_DIR")
    server = None
    if resolved.url is not None:
        check_reachable(resolved.url)
        check_is_ssi(resolved.url, profile)
    try:
        if resolved.url is None:
            from uept.runtime.reference import EmbeddedSSI, chosen_settings

            say("uept: starting the reference SSI ...")
            server = EmbeddedSSI(profile=resolved.target.profile, overrides=chosen_settings()).start()
            expose(server.env)
            url = server.url
        else:
            url = resolved.url
        out, result, problems, leaks = probe_target(settings, resolved, url, chromium, reports, wanted_pages,
                                                    args.persona)
    finally:
        if server:
            server.stop()
    print_table(result)
    say(f"Portal generation: {result['generation']}. Clock: {result.get('clock') or 'not read'}.")
    for p in problems:
        say(f"PROBLEM  {REGISTRY.redact(p)}")
    for f in leaks:
        say(f"LEAK  {f.name}: {f.what}")
    say(f"Probe: {out}/probe.html  (probe.json, pages/)")
    if args.suggest_profile:
        made = suggest_profile(resolved.target.profile, result, Path(args.suggest_profile))
        say(f"Draft profile: {args.suggest_profile} ({made} change(s) from {resolved.target.profile}; review it)")
    if leaks:
        return 1
    say("Everything the scenarios need resolves exactly once." if not problems else
        f"{len(problems)} problem(s): correct the profile (the keys above) or the target, then probe again.")
    return 0 if not problems else 1


def add_parser(sub) -> None:
    p = sub.add_parser("probe", help="check a target before a run: every page and locator, changing nothing",
                       description="Sign in as each persona, open every page the page objects use, and report "
                                   "each locator (missing, once, ambiguous), choice list and target fact, "
                                   "without submitting anything.", epilog=REFSSI_ENV_HELP)
    p.add_argument("--target", help="target name from the config, or a URL (default: reference)")
    p.add_argument("--persona", action="append", metavar="NAME",
                   help="persona to sign in as (repeatable; default: one per identity path and code method, "
                        "and one for each component the probed pages need)")
    p.add_argument("--pages", nargs="+", metavar="NAME", help="pages to probe: all (default) or some by name")
    p.add_argument("--suggest-profile", metavar="FILE",
                   help="write a draft profile with the labels and choice lists as found, to review and diff")
    p.add_argument("--config", help="config file (default: $UEPT_CONFIG or ./uept.yaml)")
    p.add_argument("--reports", help="where the probe folder goes (default: $UEPT_REPORTS_DIR or ./reports)")
    p.set_defaults(func=cmd_probe)

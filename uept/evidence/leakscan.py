"""Look for secret-shaped values in evidence files, Playwright traces unzipped.

Used by `uept verify` (which does not know the party's secrets, so it looks for their
shape) and at the end of `uept run` (which also knows the exact values it used).
Secret shapes:
  - a value typed into, or held by, a password field (trace actions and DOM snapshots,
    HTML inputs, form bodies, JSON fields named like passwords);
  - a one-time code typed into, or held by, a code field (txtResponse, one-time-code,
    otp, verification code, ...);
  - an authenticator seed: an otpauth:// URI, or a stand-alone Base32 string of 16+
    characters with digits in it (JPEG and PDF files are not text and are not read:
    screenshots are masked when they are taken, and the PDF prints report.html,
    which is read).
Findings never repeat the value: they name the file and what was found.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

BINARY = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".pdf", ".woff", ".woff2", ".ttf", ".ico"}
MAX_DEPTH = 3

PASSWORD_NAME = (r"(?:user_?password|new_?password|confirm_?password|old_?password|current_?password"
                 r"|password|passwd|pwd)")
CODE_NAME = (r"(?:txtresponse|one-time-code|otp(?:_?code)?|mfa_?code|verification_?code|passcode|totp(?:_?code)?"
             r"|otc)")  # otc: Microsoft Entra ID's code field
SEED_NAME = r"(?:totp_?seed|otp_?secret|mfa_?secret|authenticator_?key|setup_?key)"
NAMES = f"(?:{PASSWORD_NAME}|{CODE_NAME}|{SEED_NAME})"

# All but _BASE32 and _ATTRS run on the lower-cased text: case-insensitive regexes are slow.
# A run of 16+ Base32 characters that is not part of a longer word. The look-behind follows the run's first character,
# so that the regex engine can skip ahead to a candidate character (with it first, this was a third of the scan).
_BASE32 = re.compile(r"([A-Z2-7](?<![A-Za-z0-9+/=_%-][A-Z2-7])[A-Z2-7]{15,})(={0,6})(?![A-Za-z0-9+/=_%-])")
_FORM = re.compile(rf"(?<![a-z0-9_.-])({NAMES})=([^&\s\"'<>]+)")
_JSON = re.compile(rf"\"({NAMES})\"\s*:\s*\"([^\"]+)\"")
_PARAM = re.compile(rf"\"name\"\s*:\s*\"({NAMES})\"\s*,\s*\"value\"\s*:\s*\"([^\"]+)\"")
_DATA_URI = re.compile(r"data:image/[a-z+.-]+;base64,[A-Za-z0-9+/=]+")
# Every name NAMES matches ends with one of these (tests/test_leakscan.py enumerates them): a form value for one
# needs one of them before '='. Looking for these first spares most files the form regex, which is slow. (The same
# before '"' would not spare the JSON regex much: Playwright's network log has a "response" in every entry.)
_NAME_ENDS = ("password", "passwd", "pwd", "response", "code", "otp", "otc", "secret", "key", "seed")
_FORM_HINTS = tuple(f"{end}=" for end in _NAME_ENDS)
# _BASE32 matches a run of at least this many Base32 characters: a text without one needs no regex. Found with
# bytes.translate and a plain substring search, a tenth of the regex's time over a full run's pack.
_BASE32_MIN = 16
_BASE32_TABLE = bytes(1 if chr(i) in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" else 0 for i in range(256))
_HTML_INPUT = re.compile(r"<input\b[^>]*>")
_PAGE_TEXT = re.compile(r"\[([^\[\]:\n]{0,60}?(?:password|verification code|one-time code|authentication code|"
                        r"passcode|setup key|secret key|authenticator key)[^\[\]:\n]{0,20}): ([^\]\n]+)\]")
_ATTRS = re.compile(r"\{[^{}\[\]]*\"__playwright_value_\"\s*:\s*\"[^\"]+\"[^{}\[\]]*\}")
_SELECTOR_PASSWORD = re.compile(r"password|passwd|pwd", re.I)
_SELECTOR_CODE = re.compile(r"txtResponse|one-time|\botp\b|\botc\b|verification|passcode|\bmfa\b|authenticat"
                            r"|security code", re.I)
_TYPING = {"fill", "type", "pressSequentially", "insertText"}
MASKED = re.compile(r"^['\"]?(\*+|•+|x+|\.+|redacted|\[redacted\]|<redacted>|\$\{?[a-z_]+\}?|secret\(.*\)|none)['\"]?$",
                    re.I)
# program source (Playwright traces keep the test code): only exact values and seed shapes are looked for
SOURCE = {".py", ".js", ".mjs", ".cjs", ".ts", ".css", ".map"}


@dataclass(frozen=True)
class Finding:
    file: str  # path in the pack; 'a.zip!inner/file' inside a zip
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


def _looks_masked(value: str) -> bool:
    return bool(MASKED.match(value.strip())) or not value.strip()


def _written_in_a_step(value: str, low: str) -> bool:
    """A step parameter whose value the step's own wording quotes, in the same JSON document (an Allure result:
    `tries to change their password to \\"alllowercase12\\"` with the parameter password='alllowercase12'): it
    is written in the feature file, which is in the pack, so it is nobody's secret (a scenario's deliberately
    weak password). The run's own scan still refuses any value it knows as a secret, wherever it appears."""
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":  # Allure writes the repr of the value
        v = v[1:-1]
    return bool(v) and f'\\"{v}\\"' in low


def _is_seed(token: str) -> bool:
    digits = sum(c.isdigit() for c in token)
    letters = len(token) - digits
    return digits >= 1 and letters >= 4 and len(set(token)) >= 8


def scan_text(name: str, text: str, known: dict[str, str] | None = None) -> list[Finding]:
    found: dict[str, Finding] = {}
    source = Path(name.split("!")[-1]).suffix.lower() in SOURCE

    def add(what: str) -> None:
        found.setdefault(what, Finding(name, what))

    if "base64," in text:  # embedded images (report thumbnails) are pictures, not text: skip their bytes
        text = _DATA_URI.sub("data:", text)
    if known:
        for value, label in known.items():
            if value and value in text and not (value.isdigit() and not re.search(rf"(?<!\d){value}(?!\d)", text)):
                add(f"the {label} appears in it")
    low = text.lower()
    if "otpauth://" in low:
        add("an otpauth:// URI (it carries an authenticator seed)")
    # UTF-8 encodes the Base32 characters, which are ASCII, as themselves and any other character as other bytes
    if b"\x01" * _BASE32_MIN in text.encode("utf-8", "surrogatepass").translate(_BASE32_TABLE):
        for m in _BASE32.finditer(text):
            if _is_seed(m.group(1)):
                add("a Base32 string shaped like an authenticator seed")
                break
    if source:
        return list(found.values())
    if "=" in low and any(hint in low for hint in _FORM_HINTS):  # the regex is slow; most text has none
        for m in _FORM.finditer(low):
            if not _looks_masked(m.group(2)):
                add(f"a form value for '{m.group(1)}'")
    if '"' in low:
        for m in _JSON.finditer(low):
            if not _looks_masked(m.group(2)):
                add(f"a JSON value for '{m.group(1)}'")
        for m in _PARAM.finditer(low):
            if not _looks_masked(m.group(2)) and not _written_in_a_step(m.group(2), low):
                add(f"a named value '{m.group(1)}' (a request body or step parameter)")
    if "<input" in low:
        for m in _HTML_INPUT.finditer(low):
            tag = m.group(0)
            value = re.search(r"\bvalue\s*=\s*[\"']([^\"']*)[\"']", tag)
            if value and not _looks_masked(value.group(1)):
                if re.search(r"type\s*=\s*[\"']?password", tag):
                    add("a password input with a value")
                elif re.search(rf"(?:name|id|autocomplete)\s*=\s*[\"']?{CODE_NAME}", tag):
                    add("a code input with a value")
    if "[" in low:
        for m in _PAGE_TEXT.finditer(low):
            if not _looks_masked(m.group(2)):
                label = text[m.start(1):m.end(1)] if len(low) == len(text) else m.group(1)
                add(f"the value of the field '{label.strip()}' in page text")
    if "__playwright_value_" in text:
        for m in _ATTRS.finditer(text):
            _snapshot_input(m.group(0), add)
    if '"method"' in text and '"params"' in text:
        _trace_actions(text, add)
    return list(found.values())


def _snapshot_input(attrs_json: str, add) -> None:
    try:
        attrs = json.loads(attrs_json)
    except json.JSONDecodeError:
        return
    value = str(attrs.get("__playwright_value_", ""))
    if _looks_masked(value):
        return
    kind = str(attrs.get("type", "text")).lower()
    names = [str(attrs.get(k, "")) for k in ("name", "id", "autocomplete")]
    if kind == "password":
        add("a password field's value in a trace DOM snapshot")
    elif kind in ("radio", "checkbox", "submit", "button", "reset", "image"):
        return
    elif kind == "hidden":
        if any(re.fullmatch(SEED_NAME, n.lower()) for n in names):
            add("a hidden field holding an authenticator seed in a trace DOM snapshot")
    elif any(re.fullmatch(CODE_NAME, n.lower()) for n in names):
        add("a code field's value in a trace DOM snapshot")


def _trace_actions(text: str, add) -> None:
    for line in text.splitlines():
        if '"params"' not in line or '"value"' not in line and '"text"' not in line:
            continue
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(ev, dict) or ev.get("method") not in _TYPING:
            continue
        params = ev.get("params") or {}
        value = str(params.get("value", params.get("text", "")))
        selector = str(params.get("selector", ""))
        if _looks_masked(value):
            continue
        if _SELECTOR_PASSWORD.search(selector):
            add("a value typed into a password field, recorded in a trace")
        elif _SELECTOR_CODE.search(selector) and re.fullmatch(r"\s*\d{4,10}\s*", value):
            add("a code typed into a code field, recorded in a trace")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def scan_bytes(name: str, data: bytes, known: dict[str, str] | None = None, depth: int = 0,
               cache: dict[tuple[bytes, bool], list[str]] | None = None) -> list[Finding]:
    """Findings in one file's bytes; zips are opened. `cache` skips content already scanned
    (every trace part carries the same test sources)."""
    suffix = Path(name.split("!")[-1]).suffix.lower()
    if suffix in BINARY:
        return []
    if data[:4] == b"PK\x03\x04" and depth < MAX_DEPTH:
        out: list[Finding] = []
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if info.is_dir():
                        continue
                    out += scan_bytes(f"{name}!{info.filename}", z.read(info), known, depth + 1, cache)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            out.append(Finding(name, f"cannot be opened to look inside ({exc})"))
        return out
    if cache is None:
        return scan_text(name, _decode(data), known)
    key = (hashlib.sha1(data).digest(), suffix in SOURCE)
    if key not in cache:
        cache[key] = [f.what for f in scan_text(name, _decode(data), known)]
    return [Finding(name, what) for what in cache[key]]


def scan_files(root: Path, names: Iterable[str], known: dict[str, str] | None = None) -> Iterator[Finding]:
    cache: dict[tuple[bytes, bool], list[str]] = {}
    for rel in names:
        path = root / rel
        try:
            data = path.read_bytes()
        except OSError:
            continue
        yield from scan_bytes(rel, data, known, cache=cache)

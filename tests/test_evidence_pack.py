"""The signed evidence pack and `uept verify`: hashes, signature, completeness, secrets."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.evidence_helpers import catalogue_file, make_run, new_key, public_key_file, rewrite_pack, trace_zip
from tests.helpers import run_uept
from uept.evidence import pack
from uept.evidence.completion import ScenarioCatalogue
from uept.evidence.report import write_reports


@pytest.fixture
def signed(tmp_path: Path) -> dict:
    """A complete, signed pack of a synthetic run (report without PDF: fast)."""
    cat = catalogue_file(tmp_path)
    run_dir = make_run(tmp_path)
    write_reports(run_dir, ScenarioCatalogue.load(cat), pdf=False)
    key = new_key(tmp_path / "party.pem")
    built = pack.build(run_dir, key)
    return {"run": run_dir, "zip": built.zip_path, "key": key, "pub": public_key_file(key, tmp_path / "party.pub"),
            "catalogue": cat, "tmp": tmp_path}


def check(v: pack.Verification, name: str) -> pack.Check:
    return next(c for c in v.checks if c.name == name)


def test_a_good_pack_verifies(signed: dict) -> None:
    v = pack.verify(signed["zip"], str(signed["pub"]), signed["catalogue"])
    assert v.ok, [(c.name, c.lines) for c in v.checks]
    assert [c.name for c in v.checks] == ["signature", "hashes", "completeness", "secrets"]
    assert "the signer is the expected key" in check(v, "signature").lines
    names = {f["path"] for f in v.manifest["files"]}
    for expected in ("run.json", "summary.json", "report.html", "cucumber.json", "junit.xml", "scenario-set.json",
                     "scenarios/UEPT-DEMO-01/result.json", "scenarios/UEPT-DEMO-01/trace-01.zip",
                     "scenarios/UEPT-DEMO-01/step-01.jpg", "allure-results/environment.properties"):
        assert expected in names
    assert v.manifest["signer"]["fingerprint"] == pack.fingerprint(signed["key"].public_key())


def _unzipped(signed: dict) -> Path:
    root = signed["tmp"] / "unzipped" / "run"
    assert pack.unpack(signed["zip"], root) == {}
    return root


def test_one_changed_byte_in_any_file_fails_naming_it(signed: dict) -> None:
    root = _unzipped(signed)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(files) > 30
    for f in files:
        original = f.read_bytes()
        data = bytearray(original)
        data[len(data) // 2] ^= 0x01
        f.write_bytes(bytes(data))
        try:
            v = pack.verify(root, str(signed["pub"]), signed["catalogue"], scan=False, completeness=False)
        finally:
            f.write_bytes(original)
        rel = f.relative_to(root).as_posix()
        assert not v.ok, f"changing {rel} went unnoticed"
        failed = [line for c in v.checks if not c.ok for line in c.lines]
        assert any(rel in line for line in failed), (rel, failed)
    assert pack.verify(root, str(signed["pub"]), signed["catalogue"]).ok  # all restored


def _rezip(src: Path, dest: Path, change: str) -> None:
    def flip(rel: str, data: bytes) -> bytes | None:
        if rel != change:
            return None
        changed = bytearray(data)
        changed[len(changed) // 2] ^= 0x20
        return bytes(changed)

    rewrite_pack(src, dest, flip)


@pytest.mark.parametrize("member", ["run.json", "scenarios/UEPT-DEMO-01/step-02.jpg",
                                    "scenarios/UEPT-DEMO-02-nobody/trace-01.zip", "report.html"])
def test_a_member_rewritten_inside_the_zip_fails_naming_it(signed: dict, member: str) -> None:
    tampered = signed["tmp"] / "tampered.zip"
    _rezip(signed["zip"], tampered, member)
    v = pack.verify(tampered, str(signed["pub"]), signed["catalogue"], scan=False)
    assert not check(v, "hashes").ok
    assert any(line.startswith(member + ":") for line in check(v, "hashes").lines)


@pytest.mark.parametrize("member", ["scenarios/UEPT-DEMO-01/step-01.jpg", "summary.json"])
def test_a_flipped_byte_in_the_zip_file_itself_fails_naming_the_member(signed: dict, member: str) -> None:
    raw = bytearray(signed["zip"].read_bytes())
    with zipfile.ZipFile(signed["zip"]) as z:
        info = z.getinfo(f"{z.namelist()[0].split('/')[0]}/{member}")
    # local header: 30 bytes + name + extra, then the member's data
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0xFF
    broken = signed["tmp"] / "broken.zip"
    broken.write_bytes(bytes(raw))
    result = run_uept("verify", str(broken), "--key", str(signed["pub"]), "--catalogue", str(signed["catalogue"]))
    assert result.code == 1, result.stdout + result.stderr
    assert f"{member}: " in result.stdout and "NOT VERIFIED" in result.stdout


def test_a_pack_signed_with_another_key_fails(signed: dict) -> None:
    other = new_key(signed["tmp"] / "other.pem")
    # 1. re-signed as a whole by someone else: the recorded key is theirs, not the party's
    resigned = pack.build(signed["run"], other)
    v = pack.verify(resigned.zip_path, str(signed["pub"]), signed["catalogue"])
    assert not check(v, "signature").ok
    assert any("not by the expected key" in line for line in check(v, "signature").lines)
    # ... and by fingerprint too
    v = pack.verify(resigned.zip_path, pack.fingerprint(signed["key"].public_key()), signed["catalogue"])
    assert not v.ok
    # 2. the party's public key left in the manifest, the signature made with another key
    pack.build(signed["run"], signed["key"], zip_it=False)
    body = (signed["run"] / pack.MANIFEST).read_bytes()
    (signed["run"] / pack.SIGNATURE).write_text(base64.b64encode(other.sign(body)).decode() + "\n")
    v = pack.verify(signed["run"], None, signed["catalogue"])
    assert not check(v, "signature").ok
    assert any("does not match" in line for line in check(v, "signature").lines)


def test_an_added_file_fails(signed: dict) -> None:
    root = _unzipped(signed)
    (root / "scenarios" / "UEPT-DEMO-01" / "extra.txt").write_text("added later")
    v = pack.verify(root, str(signed["pub"]), signed["catalogue"])
    assert any("extra.txt: not listed in the manifest" in line for line in check(v, "hashes").lines)


def test_a_missing_file_fails(signed: dict) -> None:
    root = _unzipped(signed)
    (root / "scenarios" / "UEPT-DEMO-02-myself" / "step-01.jpg").unlink()
    v = pack.verify(root, str(signed["pub"]), signed["catalogue"])
    assert any("UEPT-DEMO-02-myself/step-01.jpg: missing" in line for line in check(v, "hashes").lines)


def test_completeness_is_recomputed_for_the_declared_role(tmp_path: Path) -> None:
    cat = catalogue_file(tmp_path)
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-02-nobody": "failed", "UEPT-DEMO-01": "absent"})
    write_reports(run_dir, ScenarioCatalogue.load(cat), pdf=False)
    key = new_key(tmp_path / "k.pem")
    built = pack.build(run_dir, key)
    v = pack.verify(built.zip_path, None, cat)
    comp = check(v, "completeness")
    assert not comp.ok and check(v, "hashes").ok and check(v, "signature").ok
    text = "\n".join(comp.lines)
    assert "INCOMPLETE" in text
    assert "blocking: UEPT-DEMO-01 (not run)" in text
    assert "blocking: UEPT-DEMO-02 (failed)" in text
    assert "UEPT-DEMO-03" not in text  # @needs-operator: not mandatory


def test_a_pack_whose_summary_claims_complete_when_results_say_otherwise_fails(tmp_path: Path) -> None:
    cat = catalogue_file(tmp_path)
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-01": "failed"})
    write_reports(run_dir, ScenarioCatalogue.load(cat), pdf=False)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["verdict"]["result"] = "COMPLETE"
    (run_dir / "summary.json").write_text(json.dumps(summary))
    built = pack.build(run_dir, new_key(tmp_path / "k.pem"))  # signed by the party itself: hashes are fine
    v = pack.verify(built.zip_path, None, cat)
    assert any("summary.json claims COMPLETE" in line for line in check(v, "completeness").lines)
    assert not v.ok


LEAKS = {
    "password typed (trace action)": ("scenarios/UEPT-DEMO-01/trace-01.zip", trace_zip(extra_lines=[
        {"type": "before", "callId": "call@9", "method": "fill",
         "params": {"selector": "internal:label=\"Password\"i", "value": "Tr0ub4dor&3"}}]),
        "trace-01.zip!trace.trace: a value typed into a password field"),
    "code typed (trace action)": ("scenarios/UEPT-DEMO-01/trace-01.zip", trace_zip(extra_lines=[
        {"type": "before", "callId": "call@9", "method": "fill",
         "params": {"selector": "internal:label=\"Verification code\"i", "value": "493817"}}]),
        "a code typed into a code field"),
    "password in a DOM snapshot": ("scenarios/UEPT-DEMO-01/trace-01.zip", trace_zip(extra_lines=[
        {"type": "frame-snapshot", "snapshot": {"html": ["INPUT", {"__playwright_value_": "hunter22",
                                                                   "type": "password", "name": "user_password"}]}}]),
        "a password field's value in a trace DOM snapshot"),
    "code in a DOM snapshot": ("scenarios/UEPT-DEMO-01/trace-01.zip", trace_zip(extra_lines=[
        {"type": "frame-snapshot", "snapshot": {"html": ["INPUT", {"__playwright_value_": "123456",
                                                                   "type": "text", "name": "txtResponse"}]}}]),
        "a code field's value in a trace DOM snapshot"),
    "login POST in the network log": ("scenarios/UEPT-DEMO-01/trace-01.zip", trace_zip(extra_files={
        "resources/abc.dat": "sysparm_ck=x&user_name=alex&user_password=S3cr3t%21"}),
        "a form value for 'user_password'"),
    "seed as an otpauth URI": ("scenarios/UEPT-DEMO-01/step-01.txt",
                               b"otpauth://totp/DCC:alex?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "otpauth:// URI"),
    "Base32 seed in page text": ("scenarios/UEPT-DEMO-01/step-02.txt",
                                 b"Setup key\nK5XW4ZLBNRWG6YLUMVZWK4TJMFXGOZLSEB2GK2LU\n", "Base32 string"),
    "unmasked field in page text": ("scenarios/UEPT-DEMO-02-myself/step-01.txt", b"[Verification code: 204613]",
                                    "the value of the field 'Verification code'"),
    "JSON password field": ("allure-results/1e2d-result.json", b'[{"password": "Winter2026!"}]',
                            "a JSON value for 'password'"),
    "password as a step parameter": ("allure-results/2f3a-result.json", json.dumps({"steps": [
        {"name": "When I log in with the password I was given", "parameters": [
            {"name": "password", "value": "'Winter2026!'"}]}]}).encode(), "a named value 'password'"),
}


@pytest.mark.parametrize("processes", ["one process", "helper processes"])
@pytest.mark.parametrize("case", sorted(LEAKS))
def test_secret_shaped_values_are_found_traces_unzipped(tmp_path: Path, case: str, processes: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack, "PARALLEL_SCAN_MIN_FILES", 10**9 if processes == "one process" else 0)
    cat = catalogue_file(tmp_path)
    run_dir = make_run(tmp_path)
    rel, data, expected = LEAKS[case]
    (run_dir / rel).write_bytes(data)
    write_reports(run_dir, ScenarioCatalogue.load(cat), pdf=False)
    built = pack.build(run_dir, new_key(tmp_path / "k.pem"))
    v = pack.verify(built.zip_path, None, cat)
    sec = check(v, "secrets")
    assert not sec.ok and check(v, "hashes").ok
    assert any(line.startswith(rel) and expected in line for line in sec.lines), sec.lines
    # the finding names the file and the kind, never the value
    assert not any(v in "\n".join(sec.lines) for v in ("Tr0ub4dor", "493817", "hunter22", "S3cr3t", "JBSWY3DP",
                                                       "K5XW4ZLB", "204613", "Winter2026"))


def test_a_password_the_feature_file_writes_is_nobodys_secret(tmp_path: Path) -> None:
    """UEPT-CRED-14 types deliberately weak passwords its steps quote: Allure keeps each as a step parameter named
    password, beside the step's wording that quotes it. The feature file is in the pack; the pack verifies."""
    cat = catalogue_file(tmp_path)
    run_dir = make_run(tmp_path)
    (run_dir / "allure-results" / "3b4c-result.json").write_text(json.dumps({"steps": [
        {"name": 'When the new user tries to change their password to "alllowercase12"',
         "parameters": [{"name": "password", "value": "'alllowercase12'"}, {"name": "ssi", "value": "SSI"}]}]}))
    write_reports(run_dir, ScenarioCatalogue.load(cat), pdf=False)
    v = pack.verify(pack.build(run_dir, new_key(tmp_path / "k.pem")).zip_path, None, cat)
    assert check(v, "secrets").ok, check(v, "secrets").lines


def test_pack_refuses_a_folder_holding_a_known_secret(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    (run_dir / "scenarios" / "UEPT-DEMO-01" / "step-01.txt").write_text("pw: correct-horse-battery")
    built = pack.build(run_dir, new_key(tmp_path / "k.pem"), known_secrets={"correct-horse-battery": "password of x"})
    assert built.zip_path is None
    assert built.leaks == ["scenarios/UEPT-DEMO-01/step-01.txt: the password of x appears in it"]


def test_verify_cli_exit_codes(signed: dict) -> None:
    ok = run_uept("verify", str(signed["zip"]), "--key", str(signed["pub"]), "--catalogue", str(signed["catalogue"]))
    assert ok.code == 0, ok.stdout + ok.stderr
    assert "Verdict: VERIFIED" in ok.stdout
    missing = run_uept("verify", str(signed["tmp"] / "nope.zip"))
    assert missing.code == 2 and len(missing.error_lines) == 1 and "not found" in missing.stderr
    not_zip = signed["tmp"] / "notes.txt"
    not_zip.write_text("hello")
    bad = run_uept("verify", str(not_zip))
    assert bad.code == 2 and "neither a folder nor a zip" in bad.stderr


def test_signing_key_is_created_once_with_mode_600(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "signing.pem"
    first = run_uept("key", env={"UEPT_SIGNING_KEY": str(tmp_path / "missing.pem")})
    assert first.code == 2 and "not found" in first.stderr  # an explicit key must exist
    created = pack.create_key(key_file)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    again = run_uept("key", env={"UEPT_SIGNING_KEY": str(key_file)})
    assert again.code == 0
    assert pack.fingerprint(created.public_key()) in again.stdout
    assert "BEGIN PUBLIC KEY" in again.stdout and "PRIVATE" not in again.stdout


def test_default_key_is_made_under_dot_uept(tmp_path: Path) -> None:
    from tests.helpers import ROOT

    suite = tmp_path / "suite"
    shutil.copytree(ROOT / "features", suite / "features")
    result = run_uept("key", cwd=suite)
    assert result.code == 0, result.stderr
    key = suite / ".uept" / "signing-key.pem"
    assert key.is_file() and oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct(key.parent.stat().st_mode & 0o777) == "0o700"
    assert "created the signing key" in result.stdout
    assert "created" not in run_uept("key", cwd=suite).stdout  # reused, not replaced


# ---------------------------------------------------------------- each distinct file stored once
def _pack_with_copies(tmp_path: Path):
    from tests.evidence_helpers import jpeg

    run_dir = make_run(tmp_path)
    shot = jpeg((10, 200, 10))
    copies = [f"allure-results/aaaaaaaa-0000-4000-8000-00000000000{i}-attachment.jpg" for i in range(3)]
    for c in copies:
        (run_dir / c).write_bytes(shot)
    key = new_key(tmp_path / "k.pem")
    return run_dir, copies, pack.build(run_dir, key), key


def test_identical_files_are_stored_once_and_every_path_verifies(tmp_path: Path) -> None:
    run_dir, copies, made, key = _pack_with_copies(tmp_path)
    listed = {f["path"]: f for f in made.manifest["files"]}
    assert made.manifest["format"] == "uept-evidence-pack/4"
    assert [listed[c].get("stored_as") for c in copies] == [None, copies[0], copies[0]]
    with zipfile.ZipFile(made.zip_path) as z:
        names = {n.split("/", 1)[1] for n in z.namelist()}
        data = [z.read(n) for n in z.namelist()]
    assert copies[0] in names and copies[1] not in names and copies[2] not in names
    assert len(data) == len({hashlib.sha256(d).hexdigest() for d in data})  # no duplicate bytes in the zip
    v = pack.verify(made.zip_path, None, None, completeness=False)
    assert v.ok, [c.lines for c in v.checks]
    unpacked = tmp_path / "unpacked"
    r = run_uept("unpack", str(made.zip_path), str(unpacked))
    assert r.code == 0, r.stdout + r.stderr
    root = unpacked  # the run folder itself
    assert all((root / c).read_bytes() == (run_dir / c).read_bytes() for c in copies)
    assert pack.verify(root, None, None, completeness=False).ok


def test_a_changed_file_that_is_stored_once_fails_for_every_path_it_stands_for(tmp_path: Path) -> None:
    run_dir, copies, made, key = _pack_with_copies(tmp_path)
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(made.zip_path) as src, zipfile.ZipFile(forged, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            out.writestr(info, body[:-10] + b"0123456789" if info.filename.endswith(copies[0]) else body)
    v = pack.verify(forged, None, None, completeness=False)
    bad = next(c for c in v.checks if c.name == "hashes").lines
    assert not v.ok and all(any(c in line and "SHA-256 differs" in line for line in bad) for c in copies), bad


# ---------------------------------------------------------------- the trace parts compressed together
def _pack_with_traces(tmp_path: Path) -> tuple[Path, list[str], pack.Pack]:
    run_dir = make_run(tmp_path)
    (run_dir / "scenarios" / "UEPT-DEMO-01" / "trace-02.zip").write_bytes(trace_zip([{"type": "log", "n": 2}]))
    zips = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*.zip"))
    assert len(zips) >= 3
    return run_dir, zips, pack.build(run_dir, new_key(tmp_path / "k.pem"))


def test_the_trace_parts_are_one_compressed_tar_and_unpack_restores_each(tmp_path: Path) -> None:
    run_dir, zips, made = _pack_with_traces(tmp_path)
    with zipfile.ZipFile(made.zip_path) as z:
        names = {n.split("/", 1)[1] for n in z.namelist()}
    assert pack.SOLID in names and not any(n.endswith(".zip") for n in names)
    assert all(f["path"] != pack.SOLID for f in made.manifest["files"])  # the run folder's files, each by its path
    assert set(zips) <= {f["path"] for f in made.manifest["files"]}
    v = pack.verify(made.zip_path, None, None, completeness=False)
    assert v.ok, [c.lines for c in v.checks]
    out = tmp_path / "out"
    r = run_uept("unpack", str(made.zip_path), str(out))
    assert r.code == 0, r.stdout + r.stderr
    assert all((out / rel).read_bytes() == (run_dir / rel).read_bytes() for rel in zips)
    assert not (out / pack.SOLID).exists()
    assert pack.verify(out, None, None, completeness=False).ok


def test_a_run_folders_own_file_named_like_the_tar_is_kept_and_restored(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    (run_dir / pack.SOLID).write_bytes(b"someone's own archive")
    made = pack.build(run_dir, new_key(tmp_path / "k.pem"))
    with zipfile.ZipFile(made.zip_path) as z:
        assert sum(n.endswith("/" + pack.SOLID) for n in z.namelist()) == 1
    assert pack.verify(made.zip_path, None, None, completeness=False).ok
    out = tmp_path / "out"
    assert pack.unpack(made.zip_path, out) == {}
    assert (out / pack.SOLID).read_bytes() == b"someone's own archive"


def test_a_trace_part_changed_or_added_inside_the_tar_fails_naming_it(tmp_path: Path) -> None:
    run_dir, zips, made = _pack_with_traces(tmp_path)
    forged = rewrite_pack(made.zip_path, tmp_path / "forged.zip",
                          lambda rel, data: trace_zip([{"type": "log", "n": 3}]) if rel == zips[0] else None,
                          add_to_traces={"scenarios/UEPT-DEMO-01/trace-09.zip": trace_zip()})
    v = pack.verify(forged, None, None, completeness=False)
    bad = check(v, "hashes").lines
    assert not v.ok
    assert f"{zips[0]}: SHA-256 differs from the manifest (the file was changed)" in bad, bad
    assert "scenarios/UEPT-DEMO-01/trace-09.zip: not listed in the manifest (added after signing)" in bad, bad


@pytest.mark.parametrize("name", ["../../escaped.zip", "/tmp/absolute.zip", "run.json",
                                  "scenarios/UEPT-DEMO-01/step-01.webp", "report.html"])
def test_an_entry_uept_never_puts_in_the_tar_fails_and_is_never_unpacked(tmp_path: Path, name: str) -> None:
    run_dir, zips, made = _pack_with_traces(tmp_path)
    forged = rewrite_pack(made.zip_path, tmp_path / "forged.zip", lambda rel, data: None,
                          add_to_traces={name: b'{"forged": true}'})
    v = pack.verify(forged, None, None, completeness=False)
    assert not v.ok and any(repr(name) in line for line in check(v, "pack").lines), [c.lines for c in v.checks]
    out = tmp_path / "deep" / "out"
    unreadable = pack.unpack(forged, out)
    assert any(name in k for k in unreadable), unreadable
    assert not (tmp_path / "escaped.zip").exists() and not Path("/tmp/absolute.zip").exists()
    assert (out / "run.json").read_bytes() == (run_dir / "run.json").read_bytes()  # the member, not the entry


def test_a_damaged_tar_fails_naming_it_and_the_files_it_held(tmp_path: Path) -> None:
    run_dir, zips, made = _pack_with_traces(tmp_path)
    raw = bytearray(made.zip_path.read_bytes())
    with zipfile.ZipFile(made.zip_path) as z:
        info = z.getinfo(f"{z.namelist()[0].split('/')[0]}/{pack.SOLID}")
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    raw[info.header_offset + 30 + name_len + extra_len + info.compress_size // 2] ^= 0xFF
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(raw))
    result = run_uept("verify", str(broken), "--no-completeness")
    assert result.code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{pack.SOLID}: cannot be read" in result.stdout and "NOT VERIFIED" in result.stdout
    assert any(f"{rel}: missing from the pack" in result.stdout for rel in zips), result.stdout
    out = tmp_path / "out"
    unpacked = run_uept("unpack", str(broken), str(out))  # as an assessor would, before verifying
    assert unpacked.code == 1 and "Traceback" not in unpacked.stdout + unpacked.stderr, unpacked.stdout
    assert f"uept: {pack.SOLID}: cannot be read" in unpacked.stdout, unpacked.stdout
    assert (out / "run.json").read_bytes() == (run_dir / "run.json").read_bytes()  # the members still come out


def test_the_records_go_into_the_archive_and_the_pictures_and_reports_stay_members(tmp_path: Path) -> None:
    run_dir, zips, made = _pack_with_traces(tmp_path)
    (run_dir / "scenarios" / "UEPT-DEMO-01" / "step-01.webp").write_bytes(b"RIFF\0\0\0\0WEBPVP8L picture")
    made = pack.build(run_dir, new_key(tmp_path / "k2.pem"))
    with zipfile.ZipFile(made.zip_path) as z:
        members = {n.split("/", 1)[1] for n in z.namelist()}
    with pack.PackReader(made.zip_path) as reader:
        inside = set(reader.solid.index)
    assert "scenarios/UEPT-DEMO-01/result.json" in inside and set(zips) <= inside
    assert {"scenarios/UEPT-DEMO-01/step-01.webp", "run.json", "junit.xml", "scenario-set.json", pack.SOLID} <= members
    assert not members & inside
    assert pack.verify(made.zip_path, None, None, completeness=False).ok


def test_a_pack_holding_both_archives_fails_and_the_second_is_never_unpacked(tmp_path: Path) -> None:
    run_dir, zips, made = _pack_with_traces(tmp_path)
    with zipfile.ZipFile(made.zip_path) as z:
        archive = z.read(next(n for n in z.namelist() if n.endswith("/" + pack.SOLID)))
    forged = rewrite_pack(made.zip_path, tmp_path / "forged.zip", lambda rel, data: None, add={pack.TRACES: archive})
    v = pack.verify(forged, None, None, completeness=False)
    lines = check(v, "pack").lines
    assert not v.ok and any(line.startswith(f"{pack.TRACES}: a pack holds one archive") for line in lines), lines
    out = tmp_path / "out"
    assert pack.TRACES in pack.unpack(forged, out) and not (out / pack.TRACES).exists()


def test_a_pack_of_the_third_format_still_verifies_and_unpacks(tmp_path: Path, monkeypatch) -> None:
    """Format 3 (the zips alone in traces.tar.xz, every other file a member): made as uept made it then."""
    run_dir, zips, _ = _pack_with_traces(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(pack, "FORMAT", "uept-evidence-pack/3")
        m.setattr(pack, "SOLID", pack.TRACES)
        old = pack.build(run_dir, new_key(tmp_path / "k3.pem"))
    with zipfile.ZipFile(old.zip_path) as z:
        members = {n.split("/", 1)[1] for n in z.namelist()}
    assert pack.TRACES in members and "scenarios/UEPT-DEMO-01/result.json" in members
    assert old.manifest["format"] == "uept-evidence-pack/3"
    v = pack.verify(old.zip_path, None, None, completeness=False)
    assert v.ok, [c.lines for c in v.checks]
    out = tmp_path / "out"
    assert pack.unpack(old.zip_path, out) == {}
    assert all((out / rel).read_bytes() == (run_dir / rel).read_bytes() for rel in zips)


def test_a_pack_of_the_first_format_still_verifies(tmp_path: Path) -> None:
    """Packs made before files were stored once (format /1: every file a member of its own, zips too)."""
    import base64

    run_dir, copies, made, key = _pack_with_copies(tmp_path)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["format"] = "uept-evidence-pack/1"
    for f in manifest["files"]:
        f.pop("stored_as", None)
    body = json.dumps(manifest, indent=1).encode()
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(old, "w") as z:
        for f in manifest["files"]:
            z.writestr(f"{manifest['run_id']}/{f['path']}", (run_dir / f["path"]).read_bytes())
        z.writestr(f"{manifest['run_id']}/manifest.json", body)
        z.writestr(f"{manifest['run_id']}/manifest.sig", base64.b64encode(key.sign(body)).decode() + "\n")
    v = pack.verify(old, None, None, completeness=False)
    assert v.ok, [c.lines for c in v.checks]


def test_a_trace_part_is_kept_with_the_same_members_uncompressed(tmp_path: Path) -> None:
    from uept.evidence.writer import store_uncompressed

    part = tmp_path / "trace-01.zip"
    members = {"trace.trace": b'{"type":"before"}\n' * 200, "trace.network": b"", "resources/a.css": b"p{}" * 50}
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    store_uncompressed(part)
    with zipfile.ZipFile(part) as z:
        assert [i.filename for i in z.infolist()] == list(members)
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        assert {n: z.read(n) for n in z.namelist()} == members
    once = part.read_bytes()
    store_uncompressed(part)
    assert part.read_bytes() == once


def test_reading_stopped_while_the_tar_decompresses_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C during `uept verify`'s first half second: the decompressed traces (50 MB for a full run) go too."""
    import tempfile

    _, _, made = _pack_with_traces(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pack.shutil, "copyfileobj", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pack.verify(made.zip_path, None, None, completeness=False)
    assert list(scratch.iterdir()) == []

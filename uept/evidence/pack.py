"""The signed evidence pack: manifest.json, manifest.sig and one zip of the run folder.

manifest.json lists every file of the run folder with its SHA-256 and size, plus the
run, party and verdict, and the signer's Ed25519 public key. manifest.sig is the
Ed25519 signature (Base64) of manifest.json's exact bytes, made with a key the party
holds: UEPT_SIGNING_KEY or `signing_key:` in uept.yaml (a PEM file), else
.uept/signing-key.pem, generated on first use with mode 600. DCC registers each
party's public key (`uept key` prints it) and checks packs with
`uept verify PACK --key PUBLIC_KEY`.

The pack is reports/<run-id>/evidence-pack-<run-id>.zip, holding <run-id>/... . Its zip files (the Playwright
trace parts, which the harness keeps uncompressed) and the scenario folders' and allure-results' other records
(result.json, the page texts, Allure's results; not the pictures) are not members of their own but one
xz-compressed tar, <run-id>/records.tar.xz: compressed together, they share what each file's own deflate could not
(the same pages' DOM snapshots and the same JSON keys in scenario after scenario), a quarter of the bytes. The
manifest lists each of them by its own path and SHA-256, as any other file; `uept unpack` restores them. Packs of
format 3 hold the zips alone, in traces.tar.xz.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zlib import error as zlib_error

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ssi.errors import UsageError
from uept import __version__
from uept.evidence.rundir import now_iso, read_json

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
# /2: a file whose bytes another file already holds is stored once ("stored_as"); /3: the zips in traces.tar.xz;
# /4: the zips and the scenarios' and Allure's records in records.tar.xz
FORMAT = "uept-evidence-pack/4"
FORMATS = ("uept-evidence-pack/1", "uept-evidence-pack/2", "uept-evidence-pack/3", FORMAT)
SOLID = "records.tar.xz"
TRACES = "traces.tar.xz"  # format 3's archive, the zips only
SOLIDS = (SOLID, TRACES)
# LZMA2 at preset 3 with an 8 MiB window: a full run's trace parts and records (59 MB uncompressed: 51 MB of trace
# parts, then result files, page texts and Allure results, which deflated one by one take 2.2 MB) in 2.5 MB and about
# 2.3 s of CPU (preset 1: 2.8 MB in 1.1 s; preset 6: 2.0 MB in 7.4 s; a 64 MiB window saves 2% more for four times
# the memory; bench/evidence.py)
SOLID_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 3, "dict_size": 8 << 20}]
PACK_PREFIX = "evidence-pack-"
DEFAULT_KEY = Path(".uept") / "signing-key.pem"
PICTURES = {".jpg", ".jpeg", ".png", ".webp"}  # members of their own in every format, to be opened from the zip
STORED = PICTURES | {".zip", ".pdf", ".gz"}  # already compressed


def pack_name(run_id: str) -> str:
    return f"{PACK_PREFIX}{run_id}.zip"


def in_solid(rel: str, archive: str = SOLID) -> bool:
    """Whether a file of the run folder goes into the pack's archive. records.tar.xz (format 4): every zip (trace
    parts, any zip attached), every file of the scenario folders and of allure-results but the pictures (which stay
    members, to be opened from the zip), and a file of the run folder named like either archive, which would
    otherwise take the member's name. traces.tar.xz (format 3): the zips and such a file only."""
    if rel.lower().endswith(".zip") or rel in SOLIDS:
        return True
    return archive != TRACES and rel.startswith(("scenarios/", "allure-results/")) \
        and Path(rel).suffix.lower() not in PICTURES


# ---------------------------------------------------------------- keys
def key_path(configured: str | None = None, env: dict[str, str] | None = None) -> tuple[Path, bool]:
    """Where the signing key is, and whether it was named explicitly (then it must exist)."""
    env = os.environ if env is None else env
    if env.get("UEPT_SIGNING_KEY"):
        return Path(env["UEPT_SIGNING_KEY"]).expanduser(), True
    if configured:
        return Path(configured).expanduser(), True
    return DEFAULT_KEY, False


def load_private_key(path: Path, explicit: bool, log: Callable[[str], None] | None = None) -> Ed25519PrivateKey:
    if not path.exists():
        if explicit:
            raise UsageError(f"signing key {path} not found (from UEPT_SIGNING_KEY or signing_key in the config)",
                             "give the path of your Ed25519 PEM private key, or unset it to use .uept/signing-key.pem")
        return create_key(path, log)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise UsageError(f"signing key {path} is not an unencrypted PEM private key ({str(exc).splitlines()[0]})",
                         "use a key made by `uept key` or `openssl genpkey -algorithm ed25519`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"signing key {path} is not an Ed25519 key",
                         "make one with `openssl genpkey -algorithm ed25519`")
    if log and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log(f"uept: warning: signing key {path} can be read by other users; chmod 600 it")
    return key


def create_key(path: Path, log: Callable[[str], None] | None = None) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    if log:
        log(f"uept: created the signing key {path} (mode 600; keep it, back it up). Its public key, to register "
            f"with DCC: {fingerprint(key.public_key())} (`uept key` prints it)")
    return key


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw_public(key)).digest()).decode().rstrip("=")


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def parse_public_key(text: str) -> Ed25519PublicKey | str:
    """A public key from a PEM file (public or private), raw Base64, or a SHA256: fingerprint (returned as str)."""
    text = text.strip()
    path = Path(text).expanduser()
    if len(text) < 4096 and path.is_file():
        data = path.read_bytes()
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            try:
                key = serialization.load_pem_private_key(data, password=None).public_key()
            except (ValueError, TypeError) as exc:
                raise UsageError(f"--key {text} is neither a PEM public key nor a PEM private key",
                                 "give the party's public key file (`uept key` prints one)") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise UsageError(f"--key {text} is not an Ed25519 key", "give the party's Ed25519 public key")
        return key
    if text.startswith("SHA256:"):
        return text
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError):
        raise UsageError(f"--key {text[:60]} is not a key file, a Base64 Ed25519 public key or a SHA256: fingerprint",
                         "give the party's public key as printed by `uept key`") from None


# ---------------------------------------------------------------- building
def _files(run_dir: Path) -> list[str]:
    out = []
    for p in run_dir.rglob("*"):
        if not p.is_file() or p.is_symlink():
            continue
        rel = p.relative_to(run_dir).as_posix()
        if rel in (MANIFEST, SIGNATURE) or (rel.startswith(PACK_PREFIX) and rel.endswith(".zip")) \
                or rel.endswith(".tmp"):
            continue
        out.append(rel)
    return sorted(out)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _SolidWriter:
    """records.tar.xz being written: a tar streamed into an xz file, opened at the first file it takes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.xz: lzma.LZMAFile | None = None
        self.tar: tarfile.TarFile | None = None
        self.count = 0
        self.done = False  # closed: a file added later (report.pdf) is a member of its own

    def add(self, rel: str, data: bytes, mtime: float) -> None:
        if self.tar is None:
            self.xz = lzma.open(self.path, "wb", format=lzma.FORMAT_XZ, filters=SOLID_FILTERS)
            self.tar = tarfile.open(fileobj=self.xz, mode="w|", format=tarfile.PAX_FORMAT)
        info = tarfile.TarInfo(rel)
        info.size, info.mode, info.mtime = len(data), 0o644, int(mtime)
        self.tar.addfile(info, io.BytesIO(data))
        self.count += 1

    def close(self) -> bool:
        """Finish the file; whether it holds anything."""
        self.done = True
        if self.tar is not None:
            self.tar.close()
            self.tar = None
        if self.xz is not None:
            self.xz.close()
            self.xz = None
        return self.count > 0


@dataclass
class Pack:
    run_dir: Path
    zip_path: Path | None
    manifest: dict[str, Any]
    leaks: list[str] = field(default_factory=list)


def build(run_dir: Path, key: Ed25519PrivateKey, known_secrets: dict[str, str] | None = None,
          zip_it: bool = True, late: tuple[str, ...] = (), wait: Callable[[], object] | None = None) -> Pack:
    """Hash, sign and zip a run folder, reading each file once. With known_secrets, refuse to zip a
    folder holding one. Files named in `late` (report.pdf, still printing) are taken after wait()."""
    from uept.evidence.leakscan import scan_bytes

    run_dir = Path(run_dir)
    summary = read_json(run_dir / "summary.json") or {}
    run = read_json(run_dir / "run.json") or {}
    if not isinstance(run, dict) or not isinstance(summary, dict):  # a salvaged run: summary.json says why
        run, summary = run if isinstance(run, dict) else {}, summary if isinstance(summary, dict) else {}
    run_id = run.get("run_id") or run_dir.name
    for old in run_dir.glob(f"{PACK_PREFIX}*.zip"):
        old.unlink()
    (run_dir / MANIFEST).unlink(missing_ok=True)
    (run_dir / SIGNATURE).unlink(missing_ok=True)
    leaks: list[str] = []
    files: list[dict[str, Any]] = []
    cache: dict = {}
    zip_path = run_dir / pack_name(run_id)
    tmp = zip_path.with_suffix(".zip.tmp")
    z = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) if zip_it else None
    solid = _SolidWriter(zip_path.with_suffix(".traces.tmp"))

    stored: dict[str, str] = {}  # sha256 -> the path whose member holds those bytes

    def add(names: list[str]) -> None:
        for n in names:
            data = (run_dir / n).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            entry = {"path": n, "sha256": digest, "size": len(data)}
            files.append(entry)
            if digest in stored:  # e.g. Allure's own copy of a repeated screenshot: the same bytes, once
                entry["stored_as"] = stored[digest]
                continue
            stored[digest] = n
            if known_secrets:
                leaks.extend(str(f) for f in scan_bytes(n, data, known_secrets, cache=cache)
                             if "appears in it" in f.what)
            if z is not None and in_solid(n, SOLID) and not solid.done:
                solid.add(n, data, (run_dir / n).stat().st_mtime)
            elif z is not None:
                ctype = zipfile.ZIP_STORED if Path(n).suffix.lower() in STORED else zipfile.ZIP_DEFLATED
                z.writestr(zipfile.ZipInfo.from_file(run_dir / n, f"{run_id}/{n}"), data, compress_type=ctype)

    try:
        # the zips last: the records before them compress together, in one window
        add(sorted((n for n in _files(run_dir) if n not in late), key=lambda n: (n.lower().endswith(".zip"), n)))
        if solid.close() and z is not None:
            z.write(solid.path, f"{run_id}/{SOLID}", compress_type=zipfile.ZIP_STORED)
        if wait is not None:
            wait()
        add([n for n in late if (run_dir / n).is_file()])
        files.sort(key=lambda f: f["path"])
        pub = key.public_key()
        manifest = {
            "format": FORMAT,
            "created": now_iso(),
            "generator": f"uept {__version__}",
            "run_id": run_id,
            "party": run.get("party") or summary.get("party"),
            "target": {k: (run.get("target") or {}).get(k) for k in ("name", "url", "environment", "profile")},
            "verdict": (summary.get("verdict") or {}).get("result"),
            "scenario_set": (summary.get("scenario_set") or {}).get("hash"),
            "merged_from": [{k: m.get(k) for k in ("run_id", "pack", "signer", "verification", "verdict")}
                            for m in run.get("merged_from") or [] if isinstance(m, dict)] or None,
            "files": files,
            "signer": {"algorithm": "Ed25519", "public_key": base64.b64encode(raw_public(pub)).decode(),
                       "fingerprint": fingerprint(pub)},
        }
        body = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        signature = base64.b64encode(key.sign(body)).decode() + "\n"
        (run_dir / MANIFEST).write_bytes(body)
        (run_dir / SIGNATURE).write_text(signature, encoding="ascii")
        if z is not None:
            z.writestr(f"{run_id}/{MANIFEST}", body)
            z.writestr(f"{run_id}/{SIGNATURE}", signature)
    finally:
        solid.close()
        solid.path.unlink(missing_ok=True)
        if z is not None:
            z.close()
    if z is None or leaks:
        tmp.unlink(missing_ok=True)
        return Pack(run_dir, None, manifest, leaks)
    tmp.replace(zip_path)
    return Pack(run_dir, zip_path, manifest, leaks)


# ---------------------------------------------------------------- opening a pack
def _unsafe(name: str) -> bool:
    return not name or name.startswith(("/", "\\")) or "\\" in name or ".." in Path(name).parts \
        or (len(name) > 1 and name[1] == ":")


def open_zip(path: Path) -> zipfile.ZipFile:
    """The pack's zip; UsageError when it is no zip at all, PackUnreadable when it is a damaged one."""
    if not path.is_file():
        raise UsageError(f"{path} not found", "give an evidence pack (.zip) or a run folder")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            head = f.read(4)
        if head == b"PK\x03\x04":
            raise PackUnreadable(f"{path} is a damaged zip: its end (the central directory) is missing, as when a "
                                 "download or copy is cut short")
        raise UsageError(f"{path} is neither a folder nor a zip file", "give an evidence pack (.zip)")
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PackUnreadable(f"{path} is a damaged zip ({exc})") from None
    # A pack's first member starts at byte 0. A directory that does not cover the start of the file is not the
    # pack's own: e.g. the directory of a trace zip stored inside a pack that was cut short.
    if z.infolist() and min(i.header_offset for i in z.infolist()) != 0:
        z.close()
        raise PackUnreadable(f"{path} is a damaged zip: its directory does not cover the start of the file, as "
                             "when a download or copy is cut short")
    return z


def zip_members(z: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], list[str]]:
    """{path inside the run folder: member} of a pack (one top folder, the run id, stripped), and the
    members whose names are unsafe (absolute, or climbing out with '..'): uept never makes those."""
    infos = [i for i in z.infolist() if not i.is_dir()]
    unsafe = [i.filename for i in infos if _unsafe(i.filename)]
    safe = [i for i in infos if not _unsafe(i.filename)]
    tops = {i.filename.split("/", 1)[0] for i in safe}
    prefix = f"{tops.pop()}/" if len(tops) == 1 and all("/" in i.filename for i in safe) else ""
    return {i.filename[len(prefix):]: i for i in safe}, unsafe


def unpack(path: Path, dest: Path) -> dict[str, str]:
    """Extract a pack into dest as the run folder it was: every member and every file of its archive,
    then every file the pack stored once for several paths copied back to each of them. Returns {member: why}
    for what could not be read or was refused. Nothing is verified here: `uept verify` does that."""
    with PackReader(path) as reader:
        return reader.extract(dest)


def _extract(z: zipfile.ZipFile, dest: Path, solid: SolidReader | None) -> dict[str, str]:
    members, unsafe = zip_members(z)
    for name in SOLIDS:
        members.pop(name, None)
    unreadable = {name: "unsafe path in the zip" for name in unsafe}
    for rel, info in members.items():
        out_path = dest / rel
        out_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with z.open(info) as src, out_path.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib_error) as exc:
            # a changed byte in a compressed member: say which one
            out_path.unlink(missing_ok=True)
            unreadable[rel] = f"cannot be read from the zip ({exc})"
    if solid is not None:
        unreadable.update(solid.problems)
        for rel in solid.index:
            out_path = dest / rel
            out_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                out_path.write_bytes(solid.read(rel))
            except OSError as exc:
                out_path.unlink(missing_ok=True)
                unreadable[rel] = str(exc)
    restore_copies(dest)
    return unreadable


def restore_copies(root: Path) -> int:
    """Copy each file a pack stored once back to every path that holds the same bytes (manifest "stored_as")."""
    manifest = read_json(root / MANIFEST)
    restored = 0
    for f in (manifest or {}).get("files", []) if isinstance(manifest, dict) else []:
        source = f.get("stored_as") if isinstance(f, dict) else None
        if not isinstance(source, str) or _unsafe(source) or _unsafe(f.get("path") or ""):
            continue
        target = root / f["path"]
        if not target.exists() and (root / source).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / source, target)
            restored += 1
    return restored


class PackUnreadable(Exception):
    pass


class SolidReader:
    """A pack's archive (records.tar.xz, or format 3's traces.tar.xz), decompressed once into a temporary file: each
    of its files read by its offset. `problems` ({what: why}) names the entries uept never puts there (a link, an
    unsafe path, a file that belongs outside it, a path held twice or also as a member of its own) and what could not
    be read. Small enough to pass to helper processes, which read the same temporary file."""

    def __init__(self, z: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, members: set[str],
                 name: str = SOLID) -> None:
        self.name = name
        self.file = folder / "archive.tar"
        self.index: dict[str, tuple[int, int]] = {}
        self.problems: dict[str, str] = {}
        try:
            with z.open(info) as raw, lzma.open(raw) as xz, self.file.open("wb") as out:
                shutil.copyfileobj(xz, out, 1 << 20)
        except (lzma.LZMAError, zipfile.BadZipFile, OSError, EOFError, ValueError, zlib_error) as exc:
            self.problems[name] = f"cannot be read ({exc}): the files it held are missing"
        try:
            with tarfile.open(self.file, mode="r:") as tar:
                for entry in tar:
                    name = entry.name
                    if not entry.isfile() or _unsafe(name) or not in_solid(name, self.name) or name in self.index \
                            or name in members:
                        self.problems[f"{self.name} entry {name!r}"] = (
                            "uept never puts it there (a link, an unsafe path, a file that belongs outside it, or a "
                            "path held twice): the pack was altered")
                        continue
                    self.index[name] = (entry.offset_data, entry.size)
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            self.problems.setdefault(self.name, f"is not a whole tar ({exc}): some files it held are missing")

    def read(self, rel: str) -> bytes:
        offset, size = self.index[rel]
        with self.file.open("rb") as f:
            f.seek(offset)
            data = f.read(size)
        if len(data) != size:
            raise OSError(f"cannot be read from {self.name} (cut short)")
        return data


# ---------------------------------------------------------------- verifying
@dataclass
class Check:
    name: str
    ok: bool
    lines: list[str] = field(default_factory=list)


@dataclass
class Verification:
    pack: Path
    checks: list[Check]
    manifest: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    flaky: list[dict[str, Any]] | None = None  # flaky scenarios, recomputed from the result files (completeness)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


class PackReader:
    """Reads a pack's files where they are: a folder, or the members of a zip (nothing extracted, but the
    trace parts' tar, decompressed once into a temporary file)."""

    def __init__(self, path: Path, solid: SolidReader | None = None) -> None:
        """`solid`: the archive another reader of the same pack has decompressed already."""
        self.path = Path(path)
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.tmps: list[Path] = []
        self.unreadable: dict[str, str] = {}  # member -> why, for the members folder() could not extract
        self.unsafe: list[str] = []
        self.aliases: dict[str, str] = {}  # path -> the path that holds its bytes (manifest "stored_as")
        self.solid: SolidReader | None = None
        if self.path.is_dir():
            return
        self.zip = open_zip(self.path)
        self.members, self.unsafe = zip_members(self.zip)
        archives = [(name, self.members.pop(name)) for name in SOLIDS if name in self.members]
        if archives:
            (name, info), *others = archives
            try:
                self.solid = solid or SolidReader(self.zip, info, self._tmp("uept-records-"), set(self.members),
                                                  name)
            except BaseException:  # e.g. Ctrl-C while it decompresses: no temporary file left behind
                self.close()
                raise
            for other, _ in others:
                self.solid.problems[other] = (f"a pack holds one archive ({SOLID}, or {TRACES} before format 4), "
                                              "never two: the pack was altered")

    def names(self) -> list[str]:
        if self.zip is None:
            return [*_files(self.path), *(n for n in (MANIFEST, SIGNATURE) if (self.path / n).is_file())]
        return sorted([*self.members, *(self.solid.index if self.solid else ())])

    def read(self, rel: str) -> bytes:
        """The file's bytes; OSError (with the reason) when it is missing or damaged."""
        if self.zip is None:
            return (self.path / rel).read_bytes()
        info = self.members.get(rel)
        if info is None and rel in self.aliases:
            rel = self.aliases[rel]
            info = self.members.get(rel)
        if info is None and self.solid is not None and rel in self.solid.index:
            return self.solid.read(rel)
        if info is None:
            raise FileNotFoundError(rel)
        try:
            return self.zip.read(info)
        except (zipfile.BadZipFile, EOFError, ValueError, zlib_error) as exc:
            raise OSError(f"cannot be read from the zip ({exc})") from None

    def folder(self) -> Path:
        """The pack as the run folder it was: the folder itself, or every member extracted to a temporary
        folder with the copies stored once restored (`unreadable` then lists what could not be read)."""
        if self.zip is None:
            return self.path
        tmp = self._tmp("uept-pack-")
        self.unreadable = self.extract(tmp)
        return tmp

    def extract(self, dest: Path) -> dict[str, str]:
        """Every file of a zipped pack written under dest as the run folder it was; {what: why} for what could
        not be read or was refused."""
        assert self.zip is not None
        return _extract(self.zip, dest, self.solid)

    def _tmp(self, prefix: str) -> Path:
        self.tmps.append(Path(tempfile.mkdtemp(prefix=prefix)))
        return self.tmps[-1]

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()
        for tmp in self.tmps:
            shutil.rmtree(tmp, ignore_errors=True)
        self.tmps.clear()

    def __enter__(self) -> PackReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


PARALLEL_SCAN_MIN_FILES = 200  # below this, helper processes cost more than they save


def _scan_share(path: str, names: list[str], solid: SolidReader | None) -> list[str]:
    from uept.evidence.leakscan import scan_bytes

    out: list[str] = []
    cache: dict = {}
    with PackReader(Path(path), solid=solid) as reader:
        for rel in names:
            try:
                data = reader.read(rel)
            except OSError:
                continue  # reported by the hash check
            out += [str(f) for f in scan_bytes(rel, data, cache=cache)]
    return out


def _parallel_scan(path: Path, names: list[str], solid: SolidReader | None = None):
    """Futures scanning the pack's files in helper processes, or None to scan in this one. The helpers are
    forked: each opens the zip anew (a shared file offset would mix their reads) and reads the traces from the
    temporary file this process decompressed."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    workers = min(4, os.cpu_count() or 1)
    if workers < 2 or len(names) < PARALLEL_SCAN_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        return None
    shares: list[list[str]] = [names[i::workers] for i in range(workers)]
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    futures = [pool.submit(_scan_share, str(path), share, solid) for share in shares]
    pool.shutdown(wait=False)
    return futures


def verify(path: Path, expected_key: str | None = None, catalogue_path: Path | None = None,
           scan: bool = True, completeness: bool = True) -> Verification:
    from uept.evidence.completion import INCOMPLETE, ScenarioCatalogue, assess
    from uept.evidence.leakscan import scan_bytes

    expected = parse_public_key(expected_key) if expected_key else None
    catalogue = ScenarioCatalogue.load(catalogue_path) if completeness else None
    checks: list[Check] = []
    try:
        reader = PackReader(path)
    except PackUnreadable as exc:
        return Verification(path, [Check("pack", False, [str(exc)])])
    with reader:
        if reader.unsafe:
            shown = ", ".join(repr(n) for n in reader.unsafe[:3]) + (" ..." if len(reader.unsafe) > 3 else "")
            checks.append(Check("pack", False, [f"the zip holds member(s) with unsafe paths ({shown}), outside the "
                                                "run folder: uept never makes those, so the pack was altered"]))
        if reader.solid is not None and reader.solid.problems:
            checks.append(Check("pack", False, [f"{what}: {why}" for what, why in reader.solid.problems.items()][:10]))
        try:
            body = reader.read(MANIFEST)
        except OSError as exc:
            why = "is missing" if isinstance(exc, FileNotFoundError) else str(exc)
            checks.append(Check("signature", False, [f"{MANIFEST} {why}: the pack cannot be checked"]))
            return Verification(path, checks)
        try:
            manifest = json.loads(body)
            signer = manifest["signer"]
            pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(signer["public_key"]))
        except (ValueError, KeyError, TypeError) as exc:
            checks.append(Check("signature", False, [f"{MANIFEST} is not a valid uept manifest ({exc})"]))
            return Verification(path, checks)

        # 1. signature
        sig_lines, sig_ok = [], True
        try:
            sig = base64.b64decode(reader.read(SIGNATURE).decode("ascii").strip(), validate=True)
            pub.verify(sig, body)
            sig_lines.append(f"{MANIFEST} is signed by {fingerprint(pub)}")
        except FileNotFoundError:
            sig_ok = False
            sig_lines.append(f"{SIGNATURE} is missing")
        except (InvalidSignature, ValueError, OSError):
            sig_ok = False
            sig_lines.append(f"{SIGNATURE} does not match {MANIFEST} for the public key it records "
                             f"({fingerprint(pub)}): the manifest was changed or signed with another key")
        if expected is not None:
            want = expected if isinstance(expected, str) else fingerprint(expected)
            if want != fingerprint(pub):
                sig_ok = False
                sig_lines.append(f"signed by {fingerprint(pub)}, not by the expected key {want}")
            else:
                sig_lines.append("the signer is the expected key")
        else:
            sig_lines.append("signer not compared with a registered key (give --key to do so)")
        checks.append(Check("signature", sig_ok, sig_lines))

        # 2. hashes (every listed file present and unchanged, no unlisted file) and 4. the secret scan,
        # reading each file once. A file stored once for several paths ("stored_as") is checked for each.
        listed = {f["path"]: f for f in manifest.get("files", [])}
        if manifest.get("format") not in FORMATS:
            checks.append(Check("pack", False, [f"{MANIFEST} is of format {manifest.get('format')!r}, which this "
                                                f"uept ({__version__}) does not know"]))
        reader.aliases = {p: f["stored_as"] for p, f in listed.items()
                          if isinstance(f.get("stored_as"), str) and f["stored_as"] in listed}
        physical = set(reader.names()) - {MANIFEST, SIGNATURE}
        present = physical | {p for p, target in reader.aliases.items() if target in physical}
        bad: list[str] = []
        findings: list[str] = []
        cache: dict = {}
        # The secret scan is most of the work: on a multi-core machine, helper processes scan
        # a share of the files each while this one checks the hashes.
        helpers = _parallel_scan(path, sorted(physical), reader.solid) if scan else None
        for rel in sorted(set(listed) | present):
            if rel not in present:
                bad.append(f"{rel}: missing from the pack")
                continue
            try:
                data = reader.read(rel)
            except OSError as exc:
                bad.append(f"{rel}: {exc}")
                continue
            if rel not in listed:
                bad.append(f"{rel}: not listed in the manifest (added after signing)")
            elif hashlib.sha256(data).hexdigest() != listed[rel]["sha256"]:
                bad.append(f"{rel}: SHA-256 differs from the manifest (the file was changed)")
            if scan and helpers is None and rel in physical:
                findings += [str(f) for f in scan_bytes(rel, data, cache=cache)]
        if helpers is not None:
            findings = sorted(f for fut in helpers for f in fut.result())
        checks.append(Check("hashes", not bad, bad or [f"{len(listed)} files match their SHA-256"]))

        # 3. completeness for the declared role, recomputed from the result files
        summary = None
        try:
            summary = json.loads(reader.read("summary.json"))
        except (OSError, ValueError):
            pass
        flaky = None
        if completeness and catalogue is not None:
            fresh = assess(reader.path, catalogue, salvage=True, files=(reader.names(), reader.read))
            v = fresh["verdict"]
            flaky = v["flaky"]
            lines = [f"User Role {v['role']}: {v['mandatory_passed']} of {v['mandatory']} mandatory scenario(s) "
                     f"passed -> {v['result']}"]
            lines += [f"  {r}" for r in v["reasons"]]
            lines += [f"  blocking: {b['id']} ({b['status']}) {b['name']}" for b in v["blocking"][:20]]
            if len(v["blocking"]) > 20:
                lines.append(f"  ... and {len(v['blocking']) - 20} more")
            claimed = ((summary or {}).get("verdict") or {}).get("result")
            if claimed and claimed != v["result"]:
                lines.append(f"  summary.json claims {claimed}, but the result files show {v['result']}")
            checks.append(Check("completeness", v["result"] != INCOMPLETE and claimed in (None, v["result"]), lines))

        if scan:
            shown = findings[:30] + ([f"... and {len(findings) - 30} more"] if len(findings) > 30 else [])
            checks.append(Check("secrets", not findings, shown or ["no secret-shaped value found"]))
        return Verification(path, checks, manifest, summary, flaky)


def print_verification(v: Verification, say: Callable[[str], None]) -> None:
    m = v.manifest or {}
    party = m.get("party") or {}
    say(f"Pack: {v.pack}")
    if m:
        say(f"Run {m.get('run_id')} of {party.get('name')} ({party.get('sec_party_id')}), "
            f"role {party.get('user_role')}")
    for c in v.checks:
        say(f"{'OK  ' if c.ok else 'FAIL'} {c.name}")
        for line in c.lines:
            say(f"       {line}")
    if v.flaky is not None:
        counted = [f"{f['id']} (counts as {f['counts_as']})" if f["mandatory"] else f"{f['id']} (not mandatory)"
                   for f in v.flaky]
        say(f"Flaky scenarios: {len(v.flaky)}" + (f" (failed, then passed on a retry): {', '.join(counted)}"
                                                  if counted else ""))
    say(f"Verdict: {'VERIFIED' if v.ok else 'NOT VERIFIED'}")

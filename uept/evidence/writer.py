"""The evidence writer: what a step keeps is encoded and written on a thread of its own, off the step's path.

A step's evidence is decided while the step ends, in the test's thread: the page's text is checked for
secrets, the picture is taken and the masks re-checked, and a step whose page shows a secret is refused
there and then. What follows changes nothing the evidence says and is left to this writer: encoding the
picture (WebP), writing it, its page text and the scenario's result.json, and Allure's copy of the picture.

Work runs in the order it was given (a copy of a picture runs after the picture is written; the last
result.json written is the newest). At most MAX_PENDING pieces wait: a step that would queue more waits for
the writer, so that little is ever in flight and memory stays flat. `flush()` waits for everything given so
far and returns what failed; the evidence plugin flushes at the end of every scenario (a failure there fails
the scenario) and when the pytest process ends, whatever ends it short of being killed.
"""

from __future__ import annotations

import atexit
import io
import math
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MAX_PENDING = 8
WEBP_QUALITY = 50  # text stays sharp: bench/screenshot_formats.py keeps a picture of each format to look at
WEBP_METHOD = 4  # libwebp's default effort: a third smaller than its fastest, for about 40 ms of this thread
LOSSLESS_EFFORT = 100  # lossless WebP's "quality" is effort: at method 4, 3% smaller than its default 80, no slower


class EvidenceWriter:
    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=MAX_PENDING)
        self._errors: list[str] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, work: Callable[[], None], what: str) -> None:
        """Run `work` on the writer's thread, after everything given before it; `what` names it if it fails."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="uept-evidence-writer", daemon=True)
            self._thread.start()

        def named() -> None:
            try:
                work()
            except Exception as exc:  # kept, and said by flush(): the evidence is incomplete
                with self._lock:
                    self._errors.append(f"{what}: {exc.__class__.__name__}: {exc}")

        self._queue.put(named)

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            try:
                if work is not None:
                    work()
            finally:
                self._queue.task_done()

    def flush(self) -> list[str]:
        """Wait until everything given so far is written; what failed since the last flush."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()
        with self._lock:
            errors, self._errors = self._errors, []
        return errors


WRITER = EvidenceWriter()
atexit.register(WRITER.flush)  # a pytest stopped by Ctrl-C or SIGTERM still writes what it took


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old one or the new one, never half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def webp_of(jpeg: bytes, scale: float) -> bytes:
    """The picture as WebP at this scale (the config's picture_scale, uept/runtime/config.py): the browser's
    near-lossless JPEG in a fifth of its bytes."""
    from PIL import Image

    out = io.BytesIO()
    with Image.open(io.BytesIO(jpeg)) as im:
        if scale != 1:
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS,
                           reducing_gap=2.0)
        im.save(out, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return out.getvalue()


@dataclass(frozen=True)
class Masks:
    """Where a picture must be black: boxes [x, y, width, height] in CSS pixels of a viewport `width` CSS pixels
    wide (a picture's pixels per CSS pixel: its width over that)."""

    boxes: list[list[float]]
    width: float


def palette_webp_of(png: bytes, masks: Masks | None = None) -> bytes:
    """A picture the browser rendered at the picture's scale (crisp text, about a thousand colours: the page's own
    and their anti-aliased edges) in a palette of 256 (octree, no dithering: no pixel differs from the browser's by
    more than 15 of 255 in any channel), as lossless WebP: no blur and no artefacts, in about half the bytes of the
    lossy WebP of a scaled-down picture and half its CPU (bench/screenshot_formats.py). The masks are drawn first,
    black, each one a picture's pixel wider on every side than its box (no anti-aliased edge of what it covers
    shows)."""
    from PIL import Image, ImageDraw

    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as im:
        rgb = im.convert("RGB")
    if masks is not None and masks.boxes:
        k = rgb.width / masks.width
        draw = ImageDraw.Draw(rgb)
        for x, y, w, h in masks.boxes:
            draw.rectangle((math.floor(x * k) - 1, math.floor(y * k) - 1, math.ceil((x + w) * k) + 1,
                            math.ceil((y + h) * k) + 1), fill=(0, 0, 0))
    rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, format="WEBP", lossless=True, method=WEBP_METHOD, quality=LOSSLESS_EFFORT)
    return out.getvalue()


def store_uncompressed(path: Path) -> None:
    """Rewrite a zip (a Playwright trace part) with its members stored, not deflated, the same members in the same
    order. The evidence pack compresses all of a run's trace parts together (records.tar.xz, uept/evidence/pack.py),
    which finds what the parts share, the same pages' DOM snapshots scenario after scenario, where each part's own
    deflate cannot: a full run's parts take a quarter of the bytes. Trace viewers open either kind of zip."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        if all(i.compress_type == zipfile.ZIP_STORED for i in src.infolist()):
            return
        members = [(info, src.read(info)) for info in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dest:
        for info, data in members:
            dest.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    write_atomic(path, out.getvalue())

"""Screenshot formats for the evidence (issue 17): bytes against the CPU they cost, on real pages.

    .venv/bin/python bench/screenshot_formats.py [--rounds 5]

Signs a persona in to a reference SSI of its own, opens pages of every theme (portal home, Create Incident,
an incident's ticket page, My Requests, user administration, an OMS order form) in Chromium at the harness's
viewport, and for each way of making a step's picture prints the mean size and the mean time it takes:
- in the browser (Chromium encodes: Playwright's JPEG at several qualities; DevTools' Page.captureScreenshot
  with JPEG or WebP, with and without optimizeForSpeed), wall time of the call;
- re-encoded here from one lossless capture with Pillow (WebP, AVIF, JPEG), CPU time of this process.
What the harness keeps of a page with nothing masked and nothing moving is marked with *: Chromium renders the
viewport at x0.75 (960 x 600, crisp text), kept as lossless WebP in a 256-colour palette; a page with a mask or an
animation is Playwright's JPEG q90 scaled down (LANCZOS) to x0.75 and kept as WebP q50 ("JPEG q90 then Pillow WebP
q50 m4" at x0.75). The other "x0.75" and "x0.625" ones are scaled down before they are encoded. Text must stay
legible: look at the pictures it keeps in bench-out/screenshot-formats/ (one per format, of the Create Incident page).
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.helpers import browser_context_for, signed_in_portal  # noqa: E402
from uept.evidence.writer import palette_webp_of  # noqa: E402
from uept.runtime import browser  # noqa: E402
from uept.runtime.reference import EmbeddedSSI  # noqa: E402

PAGES = ["/sp?id=index", "/sp?id=sc_cat_item&sys_id=3f1dd0320a0a0b99000a53f7604a2ef9", "/sp?id=my_requests",
         "/sp?id=user_admin", "/sp?id=oms_order_form"]


def palette_webp(image: Image.Image) -> tuple[bytes, int]:
    """The picture in at most 256 colours (octree, no dithering) as lossless WebP, and the largest difference
    from the original in any pixel and channel."""
    from PIL import ImageChops

    quantized = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    err = max(hi for _, hi in ImageChops.difference(image, quantized.convert("RGB")).getextrema())
    buf = io.BytesIO()
    quantized.save(buf, format="WEBP", lossless=True, method=4)
    return buf.getvalue(), err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    out = ROOT / "bench-out" / "screenshot-formats"
    out.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, list[int]] = {}
    errors: dict[str, list[int]] = {}
    times: dict[str, list[float]] = {}

    def note(name: str, data: bytes, spent: float, keep: bool) -> None:
        sizes.setdefault(name, []).append(len(data))
        times.setdefault(name, []).append(spent)
        if keep:
            ext = "webp" if "WebP" in name else "avif" if "AVIF" in name else "png" if "PNG" in name else "jpg"
            (out / f"{name.replace(' ', '_').replace('*', '').replace('/', '-')}.{ext}").write_bytes(data)

    with EmbeddedSSI() as server, sync_playwright() as pw:
        portal = signed_in_portal(server.url, "oa.nps", server.secrets["OA user"])
        b = pw.chromium.launch(**browser.resolve().launch_args())
        context = browser_context_for(b, portal, base_url=server.url)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        for path in PAGES:
            page.goto(path)
            page.wait_for_load_state("networkidle")  # a bench of pictures: the page at rest
            keep = path == PAGES[1]
            for _ in range(args.rounds):
                for q in (40, 60, 80):
                    t0 = time.perf_counter()
                    data = page.screenshot(type="jpeg", quality=q, animations="disabled", caret="hide")
                    note(f"Playwright JPEG q{q}", data, time.perf_counter() - t0, keep)
                for fmt, q in (("jpeg", 60), ("jpeg", 90), ("png", None), ("webp", 50), ("webp", 70)):
                    for fast in (False, True):
                        t0 = time.perf_counter()
                        params = {"format": fmt, "optimizeForSpeed": fast, **({"quality": q} if q else {})}
                        data = base64.b64decode(cdp.send("Page.captureScreenshot", params)["data"])
                        note(f"DevTools {fmt.upper().replace('WEBP', 'WebP')}{f' q{q}' if q else ''}"
                             f"{' fast' if fast else ''}", data, time.perf_counter() - t0, keep)
                        if fmt == "jpeg" and q == 90 and fast:  # a near-lossless capture, made smaller here
                            for wq, m in ((50, 4), (50, 0)):
                                buf = io.BytesIO()
                                t0 = time.process_time()
                                Image.open(io.BytesIO(data)).save(buf, format="WEBP", quality=wq, method=m)
                                note(f"JPEG q90 then Pillow WebP q{wq} m{m}", buf.getvalue(),
                                     time.process_time() - t0, keep)
                # what the harness keeps of a still page: Chromium draws the viewport at the picture's scale (crisp
                # text) and encodes it as fast as it can, kept without loss in a palette of 256 colours
                t0 = time.perf_counter()
                rendered = base64.b64decode(cdp.send("Page.captureScreenshot", {
                    "format": "png", "optimizeForSpeed": True, "clip": {
                        "x": 0, "y": 0, "width": 1280, "height": 800, "scale": 0.75}})["data"])
                note("DevTools PNG rendered at x0.75", rendered, time.perf_counter() - t0, keep)
                t0 = time.process_time()
                data = palette_webp_of(rendered)
                note("rendered x0.75, palette WebP lossless *", data, time.process_time() - t0, keep)
                t0 = time.perf_counter()
                png = page.screenshot(type="png", animations="disabled", caret="hide")
                note("Playwright PNG", png, time.perf_counter() - t0, keep)
                image = Image.open(io.BytesIO(png)).convert("RGB")
                for name, kwargs in (("Pillow WebP q50 m4", {"format": "WEBP", "quality": 50, "method": 4}),
                                     ("Pillow WebP q50 m0", {"format": "WEBP", "quality": 50, "method": 0}),
                                     ("Pillow WebP lossless m0", {"format": "WEBP", "lossless": True, "method": 0}),
                                     ("Pillow AVIF q50 s8", {"format": "AVIF", "quality": 50, "speed": 8}),
                                     ("Pillow JPEG q60", {"format": "JPEG", "quality": 60})):
                    buf = io.BytesIO()
                    t0 = time.process_time()
                    image.save(buf, **kwargs)
                    note(name, buf.getvalue(), time.process_time() - t0, keep)
                for scale in (1, 0.75):  # a palette of up to 256 colours, then WebP lossless: no blur, no artefacts
                    t0 = time.process_time()
                    size = (round(image.width * scale), round(image.height * scale))
                    scaled = image if scale == 1 else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
                    data, err = palette_webp(scaled)
                    note(f"Pillow palette WebP lossless x{scale}", data, time.process_time() - t0, keep)
                    errors.setdefault(f"x{scale}", []).append(err)
                for scale in (0.75, 0.625):  # fewer pixels: is the text still legible? (look at the pictures)
                    for name, kwargs in ((f"Pillow WebP q50 m4 x{scale}", {"format": "WEBP", "quality": 50}),
                                         (f"Pillow WebP q70 m4 x{scale}", {"format": "WEBP", "quality": 70}),
                                         (f"Pillow AVIF q50 s8 x{scale}", {"format": "AVIF", "quality": 50,
                                                                           "speed": 8})):
                        buf = io.BytesIO()
                        t0 = time.process_time()
                        size = (round(image.width * scale), round(image.height * scale))
                        image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0).save(buf, **kwargs)
                        note(name, buf.getvalue(), time.process_time() - t0, keep)
        b.close()
    print(f"{len(PAGES)} pages x {args.rounds} rounds, 1280 x 800 viewport; * = what the harness keeps today")
    for scale, errs in errors.items():
        print(f"palette {scale}: largest difference from the capture in any pixel and channel, per page: "
              f"{sorted(set(errs))} (of 255)")
    print(f"{'format':<40}{'mean KB':>9}{'mean ms':>9}   (ms: wall time of the browser call, or CPU time here)")
    for name in sizes:
        print(f"{name:<40}{statistics.mean(sizes[name]) / 1024:>9.1f}{1000 * statistics.mean(times[name]):>9.1f}")


if __name__ == "__main__":
    main()

"""A step's screenshot: masked where secrets may show, and shared only with an earlier step that showed
the very same picture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from uept.evidence.recorder import _AFTER_PICTURE_JS, _PAGE_VIEW_JS, OWN_MASK_TRIES, ScenarioRecorder
from uept.evidence.writer import WRITER
from uept.runtime import browser
from uept.runtime.config import PICTURE_SCALE

STYLE = "<style>.warn{color:#c00} a:hover{background:#ff0} body{margin:0} .tall{height:3000px}</style>"


def html(body: str, token: str = "t1") -> str:
    return (f"<!doctype html><html><head>{STYLE}</head><body><h1>Access denied</h1>{body}"
            f'<form><input type="hidden" name="sysparm_ck" value="{token}"><a href="#x">Home</a></form>'
            '<div class="tall"></div></body></html>')


PAGES = {
    "/sp?id=fn_one": html("<p>You do not have access to this page</p>", token="first-token"),
    "/sp?id=fn_two": html("<p>You do not have access to this page</p>", token="another-token"),
    "/sp?id=fn_red": html('<p class="warn">You do not have access to this page</p>'),
    "/sp?id=form": html('<label>Summary <input name="summary"></label>'),
    "/sp?id=password": html('<label>Password <input name="pw" type="password" value="hunter2hunter2"></label>'),
    "/sp?id=shadow": html('<secret-box></secret-box><script>customElements.define("secret-box", class extends '
                          'HTMLElement { connectedCallback() { this.attachShadow({mode: "open"}).innerHTML = '
                          '"<label>Password <input type=password value=hunter2hunter2></label>"; } });</script>'),
    "/sp?id=spinner": html('<p style="animation: spin 1s linear infinite">Loading</p>'
                           '<style>@keyframes spin { to { transform: rotate(360deg); } }</style>'),
}
MASKS = ["input[type=password]", "[data-secret]"]


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        context = b.new_context(viewport={"width": 800, "height": 600})

        def serve(route: Route) -> None:
            path = route.request.url.removeprefix("http://ssi.test")
            route.fulfill(status=200, content_type="text/html", body=PAGES[path])

        context.route("http://ssi.test/**", serve)
        yield context.new_page()
        b.close()


def recorder(run_dir: Path, key: str) -> ScenarioRecorder:
    return ScenarioRecorder(run_dir, key, {"name": key}, MASKS)


def mean_brightness(picture: Path, box: dict) -> float:
    """Of a box of the page (CSS pixels) in the kept picture, which is PICTURE_SCALE of the 800 x 600 page."""
    from PIL import Image, ImageStat

    with Image.open(picture) as im:
        assert im.size == (round(800 * PICTURE_SCALE), round(600 * PICTURE_SCALE))
        x0, y0 = (box["x"] + 3) * PICTURE_SCALE, (box["y"] + 3) * PICTURE_SCALE
        x1, y1 = (box["x"] + box["width"] - 3) * PICTURE_SCALE, (box["y"] + box["height"] - 3) * PICTURE_SCALE
        return sum(ImageStat.Stat(im.convert("RGB").crop((round(x0), round(y0), round(x1), round(y1)))).mean) / 3


class Hooked:
    """The page itself (so that DevTools sessions open on it, as on any page) with its evaluate hooked: `looked` is
    called after each look of the recorder's, `after` before each look where the masks went after a picture."""

    def __init__(self, page: Page, looked=None, after=None) -> None:
        self.page, self.looks, self.pictures = page, 0, 0
        self._looked, self._after, self._evaluate = looked, after, page.evaluate

    def __enter__(self) -> Page:
        def evaluate(expression: str, *args):
            if expression == _AFTER_PICTURE_JS:
                self.pictures += 1
                if self._after:
                    self._after(self)
            result = self._evaluate(expression, *args)
            if expression == _PAGE_VIEW_JS:
                self.looks += 1
                if self._looked:
                    self._looked(self)
            return result

        self.page.evaluate = evaluate
        return self.page

    def __exit__(self, *exc: object) -> None:
        del self.page.evaluate


def late_secret(hook: Hooked) -> None:
    """A secret appears after the recorder looked (a page still rendering), just before the picture is taken."""
    if hook.looks == 1:
        hook._evaluate("""() => { const c = document.createElement('code'); c.dataset.secret = '';
            c.id = 'late'; c.textContent = 'JBSWY3DPEHPK3PXP'; document.body.prepend(c); }""")


def moving(times: int):
    """The masked field moves down by 40 CSS pixels once a picture is taken, the first `times` times."""

    def move(hook: Hooked) -> None:
        if hook.pictures <= times:
            hook._evaluate("""() => { const d = document.createElement('div'); d.style.height = '40px';
                document.body.prepend(d); }""")

    return move


def webp_kind(picture: Path) -> str:
    """"VP8L" (lossless WebP) or "VP8 " (lossy): the first chunk after the RIFF header."""
    return picture.read_bytes()[12:16].decode("ascii")


def test_masked_fields_are_black_in_the_picture_and_other_pages_need_no_mask(page: Page, tmp_path: Path) -> None:
    rec = recorder(tmp_path, "M")
    page.goto("http://ssi.test/sp?id=password")
    step = written(rec.screenshot(page, "step-01"))
    assert mean_brightness(rec.dir / step["screenshot"], page.locator("input[type=password]").bounding_box()) < 30
    page.goto("http://ssi.test/sp?id=fn_one")
    late = Hooked(page, looked=late_secret)
    with late as hooked:
        step = written(rec.screenshot(hooked, "step-02"))  # nothing to mask when it looked; then the secret appeared
    assert late.pictures == 2, "the picture was not taken again with the new secret masked"
    assert mean_brightness(rec.dir / step["screenshot"], page.locator("#late").bounding_box()) < 30


def test_the_harness_draws_the_masks_on_the_browsers_own_picture_where_the_fields_are_when_it_is_taken(
        page: Page, tmp_path: Path) -> None:
    """A still page with a masked field is Chromium's picture at the picture's scale (lossless) with black boxes
    drawn by the harness: over the field wherever the page is scrolled, inside an open shadow root too, and where
    the field has moved to should it move once the picture is taken (the picture is taken again); a field that
    keeps moving is left to Playwright's own mask."""
    rec = recorder(tmp_path, "D")
    password = "input[type=password]"
    page.goto("http://ssi.test/sp?id=password")
    page.evaluate("window.scrollTo(0, 20)")
    step = written(rec.screenshot(page, "step-01"))
    assert webp_kind(rec.dir / step["screenshot"]) == "VP8L"
    assert mean_brightness(rec.dir / step["screenshot"], page.locator(password).bounding_box()) < 30
    page.goto("http://ssi.test/sp?id=shadow")
    step = written(rec.screenshot(page, "step-02"))
    assert webp_kind(rec.dir / step["screenshot"]) == "VP8L"
    assert mean_brightness(rec.dir / step["screenshot"], page.locator(password).bounding_box()) < 30
    page.goto("http://ssi.test/sp?id=password")
    once = Hooked(page, after=moving(1))
    with once as hooked:
        step = written(rec.screenshot(hooked, "step-03"))
    assert once.pictures == 2, "the picture was not taken again once the field had moved"
    assert webp_kind(rec.dir / step["screenshot"]) == "VP8L"
    assert mean_brightness(rec.dir / step["screenshot"], page.locator(password).bounding_box()) < 30
    page.goto("http://ssi.test/sp?id=password")
    page.evaluate("document.querySelector('h1').textContent = 'Another page'")  # not the picture of step-03
    always = Hooked(page, after=moving(99))
    with always as hooked:
        step = written(rec.screenshot(hooked, "step-04"))
    assert always.pictures == OWN_MASK_TRIES + 1, "Playwright was not left the picture of a field that moves"
    assert webp_kind(rec.dir / step["screenshot"]) == "VP8 "
    box = page.locator(password).bounding_box()  # where it was when Playwright took the picture: 40 px higher
    assert mean_brightness(rec.dir / step["screenshot"], {**box, "y": box["y"] - 40}) < 30


def test_the_pictures_scale_is_the_configs(page: Page, tmp_path: Path) -> None:
    """picture_scale (0.75 unless the config says otherwise) decides the size kept; 1 keeps the page whole."""
    from PIL import Image

    for scale, size in ((1.0, (800, 600)), (0.5, (400, 300))):
        rec = ScenarioRecorder(tmp_path / str(scale), "S", {"name": "S"}, MASKS, picture_scale=scale)
        step = shot(page, rec, "/sp?id=form", "step-01")
        with Image.open(rec.dir / step["screenshot"]) as im:
            assert im.size == size


def shot(page: Page, rec: ScenarioRecorder, path: str, name: str) -> dict:
    page.goto("http://ssi.test" + path)
    return written(rec.screenshot(page, name))


def written(step: dict) -> dict:
    """The step's record once the evidence writer has written what it took."""
    assert WRITER.flush() == []
    return step


def test_the_same_picture_at_another_address_or_with_another_hidden_token_is_shared(page: Page,
                                                                                   tmp_path: Path) -> None:
    first, second = recorder(tmp_path, "A"), recorder(tmp_path, "B")
    one = shot(page, first, "/sp?id=fn_one", "step-01")
    assert "shared" not in one and (first.dir / one["screenshot"]).is_file()
    two = shot(page, second, "/sp?id=fn_two", "step-01")
    assert two.get("shared") is True
    assert (second.dir / two["screenshot"]).resolve() == (first.dir / one["screenshot"]).resolve()
    assert two["url"].endswith("/sp?id=fn_two")  # the step keeps its own address
    assert not (second.dir / "step-01.webp").exists()


def test_a_page_that_looks_different_gets_its_own_screenshot(page: Page, tmp_path: Path) -> None:
    rec = recorder(tmp_path, "C")
    base = shot(page, rec, "/sp?id=fn_one", "step-01")
    assert "shared" not in base
    # the same words in another colour
    assert "shared" not in shot(page, rec, "/sp?id=fn_red", "step-02")
    # the same form with the focus in a field, then with a typed value
    page.goto("http://ssi.test/sp?id=form")
    before = rec.screenshot(page, "step-03")
    page.get_by_label("Summary").focus()
    focused = rec.screenshot(page, "step-04")
    page.get_by_label("Summary").fill("Meter offline")
    typed = rec.screenshot(page, "step-05")
    assert "shared" not in before and "shared" not in focused and "shared" not in typed
    # the same page scrolled
    page.goto("http://ssi.test/sp?id=fn_one")
    page.mouse.wheel(0, 400)
    page.wait_for_function("window.scrollY > 0")
    assert "shared" not in rec.screenshot(page, "step-06")
    # the same page with the pointer over a link (its :hover style shows)
    page.goto("http://ssi.test/sp?id=fn_one")
    page.get_by_role("link", name="Home").hover()
    assert "shared" not in rec.screenshot(page, "step-07")
    assert WRITER.flush() == [] and len(list(rec.dir.glob("step-*.webp"))) == 7


def test_a_still_page_without_masks_is_rendered_at_the_pictures_scale_and_kept_lossless(page: Page,
                                                                                       tmp_path: Path) -> None:
    """Chromium draws the viewport at the picture's scale (crisp text) and the picture is kept without loss in a
    palette; a page where something moves is Playwright's picture (animations stopped) scaled down, kept as lossy
    WebP. No style the recorder adds for the caret stays on the page."""
    from PIL import Image

    rec = recorder(tmp_path, "L")
    still = shot(page, rec, "/sp?id=form", "step-01")
    masked = shot(page, rec, "/sp?id=password", "step-02")
    moving = shot(page, rec, "/sp?id=spinner", "step-03")
    assert webp_kind(rec.dir / still["screenshot"]) == "VP8L"
    assert webp_kind(rec.dir / masked["screenshot"]) == "VP8L"
    assert webp_kind(rec.dir / moving["screenshot"]) == "VP8 "
    with Image.open(rec.dir / still["screenshot"]) as im:
        assert im.size == (600, 450) and len(im.convert("RGB").getcolors(1 << 16)) <= 256
    page.goto("http://ssi.test/sp?id=form")
    page.get_by_label("Summary").focus()  # a caret could blink: hidden while the picture is taken
    assert "shared" not in written(rec.screenshot(page, "step-04"))
    assert page.evaluate("document.querySelector('style[data-uept-no-caret]')") is None
    assert written(rec.screenshot(page, "step-05")).get("shared") is True  # the same picture: none taken
    assert page.evaluate("document.querySelector('style[data-uept-no-caret]')") is None


def test_a_secret_in_an_open_shadow_root_keeps_the_trace_paused(page: Page) -> None:
    """The trace resumes only once no secret is on the page: a filled password field inside a web component's
    shadow root is one, as it is for the picture's masks."""
    from uept.runtime.tracing import page_shows_secret

    page.goto("http://ssi.test/sp?id=shadow")
    assert page_shows_secret(page, MASKS)
    page.goto("http://ssi.test/sp?id=fn_one")
    assert not page_shows_secret(page, MASKS)

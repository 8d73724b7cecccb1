#!/usr/bin/env python3
"""The gallery page opens in headless Chromium with every figure loaded (issue 21).

  page_loads.py --build BUILD            writes a small page (tests/gallery/fixture_cards.py: a figure
                                         card and a claim card) with scripts/gallery.py, checks it,
                                         then renames its SVG and checks that the check now fails
  page_loads.py --page figures/index.html   checks a page already written (the real gallery)

Mechanism: the page is copied, next to itself (so its relative links resolve the same), with one
<script> appended that runs on window 'load' (fired once every <img> has loaded or failed) and
writes into a <pre id="pgcpp-image-check"> each <img> whose load failed (complete, but
naturalWidth 0: a missing, moved or unreadable file) and each <object> without content.
`chromium --headless --dump-dom` prints the DOM once the page has loaded and the virtual time
budget has run out; the report is read back from that. No report at all (the script did not run,
Chromium failed) is a failure too, as is a card's "missing: <file>" (gallery.py writes that, instead
of an <img>, for a figure absent when the page was written).

Exit status: 0 when every image loads; 1 otherwise (each broken one named); 77 (ctest: skipped)
when no chromium is installed (bash scripts/setup.sh --gallery installs it).
"""
from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK_JS = """
<script>
window.addEventListener('load', function () {
  var bad = [];
  document.querySelectorAll('img').forEach(function (img) {
    if (!img.complete || img.naturalWidth === 0) bad.push('img ' + img.getAttribute('src'));
  });
  document.querySelectorAll('object').forEach(function (o) {
    if (!o.contentDocument && !(o.getSVGDocument && o.getSVGDocument())) bad.push('object ' + o.getAttribute('data'));
  });
  var pre = document.createElement('pre');
  pre.id = 'pgcpp-image-check';
  pre.textContent = 'images ' + document.querySelectorAll('img').length + '\\n' + bad.join('\\n');
  document.body.appendChild(pre);
});
</script>
"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def check_page(page: Path, browser: str) -> list[str]:
    """The broken figures of `page` (empty: all loaded); raises RuntimeError when nothing came back."""
    text = page.read_text()
    problems = [f"missing (card text): {html.unescape(m)}" for m in re.findall(r"missing: ([^<]*)</p>", text)]
    probe = page.with_name(".pgcpp_page_check.html")
    probe.write_text(text.replace("</body>", CHECK_JS + "</body>"))
    try:
        with tempfile.TemporaryDirectory() as profile:
            # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
            out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                                  "--allow-file-access-from-files", "--virtual-time-budget=10000",
                                  "--dump-dom", probe.resolve().as_uri()],
                                 capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    m = re.search(r'<pre id="pgcpp-image-check">(.*?)</pre>', out.stdout, re.S)
    if not m:
        raise RuntimeError(f"no report from Chromium (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    lines = html.unescape(m.group(1)).strip().splitlines()
    n = int(lines[0].split()[1])
    print(f"page_loads: {page}: {n} images, {len(lines) - 1} failed to load")
    return problems + [f"does not load: {x}" for x in lines[1:]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", help="build directory (its bin/compare draws the fixture page)")
    ap.add_argument("--page", help="check this page instead of writing the fixture page")
    args = ap.parse_args()
    browser = chromium()
    if browser is None:
        print("page_loads: no chromium installed (bash scripts/setup.sh --gallery): skipped", file=sys.stderr)
        return 77
    if args.page:
        broken = check_page(Path(args.page), browser)
        for b in broken:
            print("page_loads: FAIL " + b, file=sys.stderr)
        return 1 if broken else 0
    if not args.build:
        ap.error("give --build BUILD or --page PAGE")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gallery"
        cmd = [sys.executable, str(ROOT / "scripts/gallery.py"), "--cards", str(ROOT / "tests/gallery/fixture_cards.py"),
               "--build", str(Path(args.build).resolve()), "--out", str(out), "--jobs", "1"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        if r.returncode != 0:
            print(f"page_loads: FAIL gallery.py exit {r.returncode}: {r.stderr.strip()[-800:]}", file=sys.stderr)
            return 1
        page = out / "index.html"
        text = page.read_text()
        failures = []
        # The claims section: its own heading, its card by its anchor, its own count.
        for needle in ("The chapter's claims, in numbers", 'id="claim-fixture"', "claims: 1 — 1 ✓"):
            if needle not in text:
                failures.append(f"the page lacks {needle!r}")
        broken = check_page(page, browser)
        failures += broken
        # The check itself must catch a moved figure: rename the SVG, the same page must now fail.
        svg = out / "runs/fixture_compare/comparison.svg"
        svg.rename(svg.with_suffix(".moved"))
        if not check_page(page, browser):
            failures.append("a page whose comparison.svg was moved away passed the check")
    for f in failures:
        print("page_loads: FAIL " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

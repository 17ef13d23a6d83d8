"""The report in a real browser: headless Chromium (Debian's ``chromium`` package).

Opens a report, saves a screenshot and an A4 PDF print, and checks there are no
console errors and no requests that would leave the machine. Skipped, saying why,
where Chromium is absent. A negative control shows the checks can fail.
"""

import re
from pathlib import Path

import pytest

from tests.browser_cdp import chromium_path, open_in_chromium

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="headless Chromium not installed (Debian: apt-get install chromium); the report's "
    "browser test needs it",
)


def test_negative_control_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><html><body><p>x</p>"
        '<img src="http://example.invalid/tracker.png">'
        "<script>console.error('boom'); undefined_function();</script></body></html>",
        encoding="utf-8",
    )
    report = open_in_chromium(page)
    assert any("boom" in e for e in report.console_errors)
    assert any("undefined_function" in e for e in report.console_errors)
    assert report.external_requests == ["http://example.invalid/tracker.png"]
    assert report.pdf.startswith(b"%PDF") and report.screenshot_png.startswith(b"\x89PNG")


@pytest.mark.slow
def test_report_of_a_synthetic_run_in_chromium(synthetic_results: Path) -> None:
    """No console errors, no request leaving the file, a screenshot and an A4 PDF print."""
    html = synthetic_results / "report.html"
    report = open_in_chromium(html)
    assert report.console_errors == []
    assert report.external_requests == []
    assert report.requests and report.requests[0].startswith("file:")
    out = synthetic_results / "browser"
    out.mkdir(exist_ok=True)
    (out / "report.png").write_bytes(report.screenshot_png)
    (out / "report.pdf").write_bytes(report.pdf)
    assert report.screenshot_png.startswith(b"\x89PNG")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", report.pdf))
    assert report.pdf.startswith(b"%PDF") and pages >= 3
    # A4 portrait: 595 x 842 points
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45](?:\.\d+)? 84[12](?:\.\d+)?\s*\]", report.pdf)

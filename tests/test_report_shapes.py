"""The rebuilt report on three differently shaped datasets (slow: three workflow runs).

One care model per region (the OPTIMAL shape), care models mixed within two regions,
and one region with mixed models. In each: "Key findings" is the first section, no
table is empty, and the sentences about regions and care models are true of the data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_synthetic, run_workflow

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mixed_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = make_synthetic(tmp_path_factory.mktemp("mixed"), n_residents=300, n_homes=12,
                          regions=("north", "south"), mixed_models=True, seed=11)
    results = tmp_path_factory.mktemp("mixed_results")
    run_workflow(data, results, cores=2)
    return results


@pytest.fixture(scope="module")
def one_region_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = make_synthetic(tmp_path_factory.mktemp("one_region"), n_residents=240, n_homes=9,
                          regions=("london",), mixed_models=True, seed=5)
    results = tmp_path_factory.mktemp("one_region_results")
    run_workflow(data, results, cores=2)
    return results


def _report(results: Path) -> str:
    return (results / "report.html").read_text(encoding="utf-8")


def _findings(html: str) -> list[str]:
    block = html[html.index('<section id="key-findings"'):]
    block = block[:block.index("</section>")]
    return [re.sub(r"\s+", " ", li).strip() for li in re.findall(r"<li>(.*?)</li>", block, re.S)]


def _check_common(html: str) -> list[str]:
    first = re.search(r'<section id="([\w-]+)"', html)
    assert first and first.group(1) == "key-findings"
    assert re.search(r'<section id="key-findings"[^>]*>\s*<h2[^>]*>Key findings</h2>', html)
    findings = _findings(html)
    assert 5 <= len(findings) <= 8
    assert findings[-1].startswith("These are comparisons between care homes")
    assert not re.search(r"<tbody>\s*</tbody>", html)  # no table with a header only
    assert "Each region has one model of care" not in html
    assert re.search(r'data-table="economics"', html)
    assert "Not produced in this run" not in html
    return findings


def test_one_care_model_per_region(synthetic_results: Path) -> None:
    html = _report(synthetic_results)
    findings = _check_common(html)
    assert any(f.startswith("Each region has a single care model") for f in findings)
    assert "confounded with region" in html


def test_care_models_mixed_within_regions(mixed_results: Path) -> None:
    html = _report(mixed_results)
    findings = _check_common(html)
    assert any("Every region (2) has care homes with more than one care model" in f
               for f in findings)
    assert "single care model" not in html and "confounded with region" not in html
    assert "in 2 regions" in findings[0]


def test_one_region(one_region_results: Path) -> None:
    html = _report(one_region_results)
    findings = _check_common(html)
    assert any(f.startswith("All residents live in one region (london)") for f in findings)
    assert "in one region" in findings[0]
    assert "single care model" not in html and "confounded with region" not in html

"""The dashboard in a real browser (Debian's Chromium through Playwright) against a real `suitescope serve`:
every page loads without a console error, charts are drawn with their series, filters and links work, names
stay text, and a private project stays closed without its token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import EVIL, Site

pytestmark = pytest.mark.slow

# Every page: (screenshot name, path). Run and test pages are found from the seeded runs.
PAGES = [
    ("home", "/"),
    ("overview", "/p/demo/shop"),
    ("tests", "/p/demo/shop/tests"),
    ("flaky", "/p/demo/shop/flaky"),
    ("regressions", "/p/demo/shop/regressions"),
    ("lost", "/p/demo/shop/lost"),
    ("failures", "/p/demo/shop/failures"),
    ("environments", "/environments?by=python_version"),
    ("environments-project", "/environments?project=demo/shop&by=python_version"),
]


def visit(page: Any, url: str) -> Any:
    answer = page.goto(url)
    page.wait_for_load_state("networkidle")
    return answer


def drawn_series(page: Any) -> dict[str, dict[str, int]]:
    """Per chart: the series uPlot drew (its legend, x excluded) and the canvas pixels that are not blank."""
    found: dict[str, dict[str, int]] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.chart')].map(el => {
            const canvas = el.querySelector('canvas');
            let inked = 0;
            if (canvas && canvas.width && canvas.height) {
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { inked++; } }
            }
            return [el.dataset.chart, {series: el.querySelectorAll('.u-legend .u-series').length - 1, inked}];
        }))"""
    )
    return found


def test_every_page_loads_without_console_errors(site: Site, page: Any, shots: Path) -> None:
    run_page = f"/runs/{site.runs[-1]}"
    visit(page, f"{site.url}/p/demo/shop/tests?contains=checkout")
    test_page = page.locator("#tests tbody a").first.get_attribute("href")
    for name, path in [*PAGES, ("run", run_page), ("test", test_page)]:
        answer = visit(page, site.url + path)
        assert answer.status == 200, f"{path}: {answer.status}"
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert page.console.errors == [], page.console.errors


def test_charts_are_drawn_with_their_series_and_the_release_line(site: Site, page: Any) -> None:
    visit(page, f"{site.url}/p/demo/shop")
    charts = drawn_series(page)
    assert {name: chart["series"] for name, chart in charts.items()} == {
        "outcomes": 3,
        "duration": 2,
        "size": 2,
        "coverage": 1,
    }
    assert all(chart["inked"] > 500 for chart in charts.values()), charts
    notes = page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).annotations")
    assert [note["label"] for note in notes] == ["2.1.0"]
    visit(page, f"{site.url}/environments?project=demo/shop&by=python_version")
    assert drawn_series(page)["split"]["series"] == 2  # 3.12 and 3.13
    notes = page.evaluate("JSON.parse(document.getElementById('chart-data').textContent).annotations")
    assert [note["label"] for note in notes] == ["2.1.0"]  # the project's release on its chart too


def test_the_test_page_draws_its_duration_band_and_strip(site: Site, page: Any) -> None:
    visit(page, f"{site.url}/p/demo/shop/tests?contains=checkout")
    page.locator("#tests tbody a").first.click()
    page.wait_for_load_state("networkidle")
    assert re.search(r"/tests/[0-9a-f]{32}$", page.url)
    assert page.locator(".strip a.cell").count() == 8
    assert drawn_series(page)["duration"]["series"] == 3 and drawn_series(page)["duration"]["inked"] > 500
    page.locator(".strip a.cell").last.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/runs/{site.runs[-1]}")


def test_filters_change_the_data_and_stay_in_the_url(site: Site, page: Any) -> None:
    visit(page, f"{site.url}/p/demo/shop/tests")
    assert page.locator("#tests tbody tr").first.inner_text().startswith("tests/test_mod.py::test_checkout_slow")
    page.select_option("select[name=sort]", "queries")
    page.click("form.filters button")
    page.wait_for_load_state("networkidle")
    assert "sort=queries" in page.url
    assert page.locator("#tests tbody tr").first.inner_text().startswith("tests/test_mod.py::test_orders_n_plus_one")
    page.select_option("select[name=has]", "network")
    page.click("form.filters button")
    page.wait_for_load_state("networkidle")
    assert page.locator("#tests tbody tr").count() == 1 and "has=network" in page.url
    visit(page, f"{site.url}/p/demo/shop")
    assert page.locator("#runs tbody tr").count() == 8
    page.fill("input[name=branch]", "no-such-branch")
    page.click("form.filters button")
    page.wait_for_load_state("networkidle")
    assert "branch=no-such-branch" in page.url and page.locator("#runs tbody tr").count() == 0
    visit(page, f"{site.url}/environments?project=demo/shop")
    page.select_option("select[name=by]", "os")
    page.click("form.filters button")
    page.wait_for_load_state("networkidle")
    assert "by=os" in page.url and drawn_series(page)["split"]["series"] == 1  # Linux only
    assert page.console.errors == []


def test_links_lead_where_they_say(site: Site, page: Any) -> None:
    visit(page, f"{site.url}/")
    page.click("text=demo/shop")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/p/demo/shop")
    for tab, path in [("tests", "/tests"), ("flaky", "/flaky"), ("failures", "/failures"), ("overview", "")]:
        page.click(f"nav.tabs >> text={tab}")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"/p/demo/shop{path}") and page.locator("nav.tabs a.current").inner_text() == tab
    page.locator("#runs a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/runs/{site.runs[-1]}") and site.runs[-1] in page.locator("h1").inner_text()
    visit(page, f"{site.url}/p/demo/shop/flaky")
    page.locator("#flaky a", has_text="test_cart_flaky").click()
    page.wait_for_load_state("networkidle")
    assert "test_cart_flaky" in page.locator("h1").inner_text()


def test_markup_in_a_test_name_is_shown_as_text_and_never_run(site: Site, page: Any) -> None:
    pages = ["/p/demo/shop/tests?sort=name", "/p/demo/shop/failures", "/p/demo/shop/flaky", f"/runs/{site.runs[6]}"]
    for path in pages:
        visit(page, site.url + path)
        assert page.evaluate("window.pwned") is None
        shown = page.evaluate(
            "name => [...document.querySelectorAll('a, td, code')].some(e => e.textContent.includes(name))", EVIL
        )
        assert shown  # the literal name, visible as text
    assert page.console.dialogs == []


def test_a_private_project_is_refused_without_its_token(site: Site, page: Any) -> None:
    answer = visit(page, f"{site.url}/p/acme/secret")
    assert answer.status == 404 and "test_secret" not in page.content()
    visit(page, f"{site.url}/")
    assert "acme/secret" not in page.content()
    visit(page, f"{site.url}/p/acme/secret")
    page.fill("input[name=token]", "sst_wrong")
    page.click("form button")
    page.wait_for_load_state("networkidle")
    assert "Latest runs" not in page.content() and page.get_by_role("alert").is_visible()
    page.fill("input[name=token]", site.read_token)
    page.click("form button")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/p/acme/secret") and "Latest runs" in page.content()
    cookie = next(c for c in page.context.cookies() if c["name"] == "suitescope_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # script cannot read the token

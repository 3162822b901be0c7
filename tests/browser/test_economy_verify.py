"""The economy editor shows the verifier's findings as the designer types: the demo economy has
only `info` ones; a SKU that makes a loop with the starter bundle shows an `arbitrage` error with
its loop spelled out; publishing it is refused, and asks before forcing (cancelled here, so the
demo economy stays as it was)."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, screenshot
from tests.browser.helpers import nav, sign_in

ECONOMY = "/v1/client/projects/demo/economy"
GEM_PACK = {"sku": "gem-pack", "title": "Gem pack", "price": {"coins": 100}, "grants": {"currencies": {"gems": 3}}}


def test_the_editor_shows_findings_as_the_designer_types_and_refuses_an_unsafe_publish(
    page: Page, server: Server
) -> None:
    with server.admin() as admin:
        before = admin.get(ECONOMY).json()
        # what the server finds in the economy as earlier tests of the session left it
        expected = admin.post(f"{ECONOMY}/verify", json=before["document"]).json()["findings"]
    assert expected and not [f for f in expected if f["severity"] == "error"], expected
    sign_in(page, server)
    nav(page, "Economy")
    findings = page.get_by_role("list", name="Findings")
    expect(findings.locator("li.finding")).to_have_count(len(expected))
    infos = sum(f["severity"] == "info" for f in expected)
    expect(findings.locator("li.finding.info")).to_have_count(infos)
    expect(findings.locator("li.finding.error")).to_have_count(0)

    page.get_by_role("tab", name="SKUs & bundles").click()
    skus = len(before["document"]["skus"])
    page.get_by_role("button", name="Add sku").click()
    page.get_by_label(f"SKU {skus + 1} (new-sku)").fill(json.dumps(GEM_PACK))
    arbitrage = findings.locator("li.finding.error[data-kind=arbitrage]")
    expect(arbitrage).to_have_count(1)
    expect(arbitrage).to_contain_text("buying starter-bundle and gem-pack in a loop")
    expect(arbitrage.locator("ol.cycle")).to_contain_text("net per round: +500 coins")
    screenshot(page, "client-economy-findings")

    page.get_by_role("button", name="Review and publish").click()
    expect(page.get_by_role("alert")).to_contain_text("the verifier found 1 error(s)")
    asked = page.get_by_role("dialog", name="Publish despite the verifier's errors?")
    expect(asked).to_be_visible()
    asked.get_by_role("button", name="Cancel").click()
    expect(asked).to_be_hidden()
    with server.admin() as admin:
        assert admin.get(ECONOMY).json() == before, "refused: nothing saved"

    arbitrage.get_by_role("button", name="skus[1]").click()  # the path opens its tab
    expect(page.get_by_role("tab", name="SKUs & bundles")).to_have_attribute("aria-selected", "true")

"""The Economy health page against the API: after credits and debits through the game API, the
figures, the chart and the table match `GET .../reports/economy-health`'s JSON, and the CSV
download is the API's CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, screenshot
from tests.browser.helpers import nav, new_player, sign_in, unique

HEALTH = "/v1/client/projects/demo/reports/economy-health"


def figure(value: int) -> str:
    """How the console prints an amount (`toLocaleString("en-US")`)."""
    return f"{value:,}"


def share(value: float) -> str:
    return f"{value * 100:.1f}%"


def test_economy_health_shows_the_api_figures_after_credits_and_debits(
    page: Page, server: Server, tmp_path: Path
) -> None:
    rich, poor = new_player(server), new_player(server)
    reward, repair = unique("reward"), unique("repair")
    with server.game() as game:
        for player, amount in ((rich, 900), (poor, 40)):
            credit = {"currency": "coins", "amount": amount, "reason": reward}
            assert game.post(f"/players/{player}/wallet/credit", json=credit).status_code == 200
        debit = {"currency": "coins", "amount": 25, "reason": repair}
        assert game.post(f"/players/{rich}/wallet/debit", json=debit).status_code == 200
    with server.admin() as admin:
        answer = admin.get(HEALTH, params={"currency": "coins"})
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    today = datetime.now(UTC).date().isoformat()
    row = next(row for row in report["rows"] if row["day"] == today)
    assert row["sources"]["credits"][reward] == 940 and row["sinks"]["debits"][repair] == 25

    sign_in(page, server)
    nav(page, "Economy health")
    expect(page.get_by_label("Currency")).to_have_value("coins")
    figures = page.get_by_role("group", name="Economy health figures")
    expect(figures.locator(".stat").filter(has_text="Supply")).to_contain_text(figure(row["supply"]))
    expect(figures.locator(".stat").filter(has_text="Top 1% share")).to_contain_text(share(row["top1PercentShare"]))
    expect(figures.locator(".stat").filter(has_text="Holders")).to_contain_text(figure(row["holders"]))
    sources = sum(one["sources"]["total"] for one in report["rows"])
    expect(figures.locator(".stat").filter(has_text="Sources")).to_contain_text(figure(sources))

    chart = page.get_by_role("img", name="Sources and sinks of coins chart")
    expect(chart).to_be_visible()
    assert chart.locator("polyline").count() == 3  # sources, sinks, net flow

    line = page.get_by_role("row").filter(has=page.get_by_role("cell", name=today, exact=True))
    expect(line).to_have_count(1)
    cells = line.get_by_role("cell").all_inner_texts()
    assert cells[:7] == [
        today,
        figure(row["sources"]["total"]),
        figure(row["sinks"]["total"]),
        figure(row["net"]),
        figure(row["supply"]),
        figure(row["holders"]),
        share(row["top1PercentShare"]),
    ], cells
    assert f"credits {reward}: 940" in cells[7] and f"debits {repair}: 25" in cells[8]
    screenshot(page, "client-economy-health")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "economy-health.csv"
    download.value.save_as(saved)
    lines = {line["day"]: line for line in csv.DictReader(saved.read_text().splitlines())}
    assert lines[today]["currency"] == "coins"
    assert int(lines[today]["sourcesTotal"]) >= row["sources"]["total"]
    assert int(lines[today][f"sources.credits.{reward}"]) == 940
    assert int(lines[today][f"sinks.debits.{repair}"]) == 25

"""The Client area through the UI, checked against the game API: an API key created, used and
revoked; a webhook delivering to a local receiver, its dead delivery redriven; the economy
edited (an invalid field refused at the field, then a valid change published and used by the
game API); the live feed showing an XP award; player lookup with its journal, export and
erasure; report charts with data."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.access import SCOPE_DESCRIPTIONS, SCOPES
from engine.definitions import economy_to_document, parse_economy
from tests.browser.conftest import Server, screenshot
from tests.browser.helpers import confirm, eventually, nav, new_player, settled, sign_in, unique
from tests.e2e.test_webhooks import Receiver

ECONOMY = "/v1/client/projects/demo/economy"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook receiver: 200 to the first delivery, 410 (gone) to the second."""
    receiver = Receiver(statuses=[200, 410])
    yield receiver
    receiver.close()


def test_an_api_key_is_shown_once_works_against_the_game_api_and_stops_when_revoked(page: Page, server: Server) -> None:
    name = unique("game-server")
    sign_in(page, server)
    nav(page, "API keys")
    page.get_by_role("button", name="New API key").click()
    dialog = page.get_by_role("dialog", name="New API key")
    dialog.get_by_label("Name").fill(name)
    expect(dialog.get_by_label("players:read")).to_be_checked()
    expect(dialog.get_by_label("players:write")).to_be_checked()
    offered = dialog.get_by_role("checkbox")
    expect(offered).to_have_count(len(SCOPES))  # the server's list (GET /v1/client/scopes)
    assert [offered.nth(i).get_attribute("value") for i in range(len(SCOPES))] == list(SCOPES)
    expect(dialog.get_by_text(SCOPE_DESCRIPTIONS["realtime"])).to_be_visible()
    screenshot(page, "client-key-scopes")
    dialog.get_by_role("button", name="Create key").click()
    shown = page.get_by_role("dialog", name="API key created")
    secret = shown.get_by_label("API key").input_value()
    assert secret.startswith("ldx_")
    expect(shown.get_by_role("button", name="Copy")).to_be_visible()
    shown.get_by_role("button", name="Done").click()
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    assert secret not in page.content()  # lists never show the secret

    player = unique("pl")
    with server.game(secret) as game:
        assert game.post("/players", json={"playerId": player, "username": player}).status_code == 201
        assert game.get(f"/players/{player}").status_code == 200
    screenshot(page, "client-keys")

    page.get_by_role("button", name=f"Revoke {name}").click()
    confirm(page, "Revoke key")
    expect(page.get_by_role("status")).to_contain_text(f"Key {name} revoked.")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.get_by_text("revoked")).to_be_visible()
    with server.game(secret) as game:
        refused = game.get(f"/players/{player}")
    assert refused.status_code == 401 and refused.json()["type"].endswith("/invalid-api-key")


def refresh_until(page: Page, row_text: str, status: str, timeout_s: float = 30.0) -> None:
    """Clicks the delivery log's Refresh until a row with that status shows."""

    def shows() -> bool:
        page.get_by_role("button", name="Refresh").click()
        settled(page)
        rows = page.get_by_role("row").filter(has_text=row_text).filter(has=page.get_by_text(status, exact=True))
        return rows.count() > 0

    assert eventually(shows, timeout_s), f"no {status} delivery of {row_text} appeared"


def test_a_webhook_delivers_to_a_local_receiver_and_a_dead_delivery_is_redriven(
    page: Page, server: Server, receiver: Receiver
) -> None:
    sign_in(page, server)
    nav(page, "Webhooks")
    page.get_by_role("button", name="New webhook").click()
    dialog = page.get_by_role("dialog", name="New webhook")
    dialog.get_by_label("URL").fill(receiver.url)
    dialog.get_by_label("Event types").fill("player.created")
    dialog.get_by_role("button", name="Create webhook").click()
    created = page.get_by_role("dialog", name="Webhook created")
    assert created.get_by_label("Signing secret").input_value().startswith("whsec_")
    created.get_by_role("button", name="Done").click()

    new_player(server)
    receiver.wait_for(1)
    page.get_by_role("button", name=f"Deliveries of {receiver.url}").click()
    refresh_until(page, "player.created", "delivered")

    new_player(server)  # the receiver answers 410: the delivery is dead, the webhook disabled
    receiver.wait_for(2)
    refresh_until(page, "player.created", "dead")
    dead = page.get_by_role("row").filter(has=page.get_by_text("dead", exact=True))
    dead.get_by_role("button", name=re.compile("^Redrive ")).click()
    expect(page.get_by_role("alert")).to_contain_text("inactive")  # the API's detail, shown as is

    page.get_by_role("button", name=f"Edit {receiver.url}").click()
    edit = page.get_by_role("dialog", name="Edit webhook")
    edit.get_by_label("Active").check()
    edit.get_by_role("button", name="Save webhook").click()
    expect(page.get_by_role("status")).to_contain_text("Webhook saved.")
    page.get_by_role("button", name=f"Deliveries of {receiver.url}").click()
    page.get_by_label("Status").select_option("dead")
    page.get_by_role("row").filter(has=page.get_by_text("dead", exact=True)).get_by_role(
        "button", name=re.compile("^Redrive ")
    ).click()
    expect(page.get_by_role("status").filter(has_text="sent again")).to_be_visible()
    requests = receiver.wait_for(3)
    assert requests[1][0]["webhook-id"] == requests[2][0]["webhook-id"]  # the same event, again
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("cell", name="delivered")).to_have_count(2)
    expect(page.get_by_role("cell", name="dead", exact=True)).to_have_count(0)
    screenshot(page, "client-webhooks")

    page.get_by_role("button", name=f"Delete {receiver.url}").click()
    confirm(page, "Delete webhook")
    expect(page.get_by_role("button", name=f"Deliveries of {receiver.url}")).to_have_count(0)


def test_an_invalid_economy_field_is_refused_at_the_field_then_a_valid_change_is_published_and_used(
    page: Page, server: Server
) -> None:
    with server.admin() as admin:
        before = admin.get(ECONOMY).json()
    version = before["version"]
    potion = before["document"]["items"][1]
    assert potion["id"] == "potion"
    tokens, new_limit = unique("tokens"), potion["stackLimit"] + 1
    currencies = len(before["document"]["currencies"])
    player = new_player(server)
    with server.game() as game:
        unknown = game.post(f"/players/{player}/wallet/credit", json={"currency": tokens, "amount": 5})
        assert unknown.status_code == 422

    sign_in(page, server)
    nav(page, "Economy")
    expect(page.get_by_text(f"Version {version}", exact=True)).to_be_visible()
    page.get_by_role("tab", name="Items").click()
    page.get_by_label("Item 2 stack limit").fill("0")
    expect(page.get_by_text("Unpublished edits (not valid yet)")).to_be_visible()  # the dry run's 422
    page.get_by_role("button", name="Review and publish").click()
    expect(page.get_by_role("alert")).to_contain_text("items[1].stackLimit")
    expect(page.get_by_role("dialog")).to_have_count(0)  # refused by the dry run, before any review
    stack_limit = page.get_by_label("Item 2 stack limit")
    expect(stack_limit).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{stack_limit.get_attribute('id')}-error")).to_contain_text("must be an integer >= 1")
    with server.admin() as admin:
        unchanged = admin.get(ECONOMY).json()
    assert unchanged == before  # nothing saved

    stack_limit.fill(str(new_limit))
    page.get_by_role("tab", name="Currencies").click()
    page.get_by_role("button", name="Add currency").click()
    page.get_by_label(f"Currency {currencies + 1} ID").fill(tokens)
    page.get_by_role("button", name="Review and publish").click()
    review = page.get_by_role("dialog", name=f"Review changes before publishing version {version + 1}")
    changes = review.get_by_role("list", name="Changes")
    expect(changes).to_contain_text(f"+currency {tokens} (soft)")
    expect(changes).to_contain_text(f"~item potion: stackLimit {potion['stackLimit']} -> {new_limit}")
    screenshot(page, "client-economy-review")
    review.get_by_role("button", name=f"Publish version {version + 1}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Published version {version + 1}.")

    with server.admin() as admin:
        after = admin.get(ECONOMY).json()
    assert after["version"] == version + 1
    assert {"id": tokens, "kind": "soft"} in after["document"]["currencies"]
    with server.game() as game:
        credited = game.post(f"/players/{player}/wallet/credit", json={"currency": tokens, "amount": 5})
        assert credited.status_code == 200, credited.text
        assert game.get(f"/players/{player}/wallet").json()["balances"][tokens] == 5

    page.get_by_role("tab", name="XP curve").click()
    chart = page.get_by_role("img", name="XP per level chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() == len(after["document"]["xpCurve"]["levels"])
    screenshot(page, "client-economy")
    page.get_by_role("tab", name="Version history").click()
    expect(page.get_by_text(f"Version {version + 1} (current)")).to_be_visible()
    expect(page.get_by_text(server.credentials["adminEmail"]).first).to_be_visible()
    page.get_by_text("Changes in this version").first.click()  # asks POST .../economy/diff
    expect(page.get_by_role("list", name="Changes").first).to_contain_text(f"+currency {tokens} (soft)")
    screenshot(page, "client-economy-history")


def test_the_live_feed_shows_an_xp_award_and_player_lookup_shows_the_player(page: Page, server: Server) -> None:
    player, other = new_player(server), new_player(server)
    sign_in(page, server)
    nav(page, "Events")
    page.get_by_role("button", name="Create a console key").click()
    expect(page.get_by_text("live", exact=True)).to_be_visible()
    feed = page.get_by_role("list", name="Live events")

    with server.game() as game:
        assert game.post(f"/players/{player}/xp", json={"amount": 120}).status_code == 200
    award = feed.get_by_role("listitem").filter(has_text=player).filter(has_text="player.xp.added")
    expect(award).to_be_visible()

    page.get_by_label("Player").fill(other)
    page.get_by_label("Event type").fill("wallet.*")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("live", exact=True)).to_be_visible()
    with server.game() as game:
        assert game.post(f"/players/{player}/wallet/credit", json={"currency": "coins", "amount": 1}).status_code == 200
        assert game.post(f"/players/{other}/xp", json={"amount": 10}).status_code == 200
        assert game.post(f"/players/{other}/wallet/credit", json={"currency": "coins", "amount": 7}).status_code == 200
    expect(feed.get_by_role("listitem").filter(has_text=other).filter(has_text="wallet.credited")).to_be_visible()
    items = feed.get_by_role("listitem").all_inner_texts()
    assert len(items) == 1, items  # neither the other player's credit nor an XP award
    stored = page.locator(".card").filter(has=page.get_by_role("heading", name="Stored events"))
    stored.get_by_role("button", name="Refresh").click()
    expect(stored.get_by_role("cell", name="wallet.credited")).to_have_count(1)
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "client-events")

    nav(page, "Players")
    page.get_by_label("Player ID").fill(player)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_text("XP", exact=True)).to_be_visible()
    expect(page.locator(".stat").filter(has_text="XP")).to_contain_text("120")
    wallet = page.locator(".card").filter(has=page.get_by_role("heading", name="Wallet", exact=True))
    expect(wallet.get_by_role("cell", name="coins")).to_be_visible()
    ledger = page.locator(".card").filter(has=page.get_by_role("heading", name="Wallet ledger"))
    expect(ledger.get_by_role("cell", name="+1", exact=True)).to_be_visible()


def test_reports_render_charts_with_data_and_download_as_csv(page: Page, server: Server, tmp_path: Path) -> None:
    player = new_player(server)
    with server.game() as game:
        credited = game.post(f"/players/{player}/wallet/credit", json={"currency": "coins", "amount": 300})
        assert credited.status_code == 200
        bought = game.post(f"/players/{player}/purchases", json={"sku": "potion-pack"})
        assert bought.status_code in (200, 201), bought.text
    sign_in(page, server)
    nav(page, "Reports")
    chart = page.get_by_role("img", name="Events per day chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() >= 3  # player.created, wallet.credited, ... today
    expect(page.get_by_role("cell", name="player.created").first).to_be_visible()
    screenshot(page, "client-reports")

    page.get_by_label("Report").select_option("currency-flow")
    flow = page.get_by_role("img", name="Currency flow chart")
    expect(flow).to_be_visible()
    assert flow.locator("polyline").count() >= 2
    page.get_by_label("Report").select_option("purchases")
    expect(page.get_by_role("cell", name="potion-pack").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "purchases.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.read_text().splitlines()))
    assert any(row["sku"] == "potion-pack" and int(row["count"]) >= 1 for row in rows), rows


def test_player_lookup_shows_the_journal_exports_the_data_and_erases_the_player(
    page: Page, server: Server, tmp_path: Path
) -> None:
    player = new_player(server)
    secret = unique("secret-note")
    with server.game() as game:
        credit = {"currency": "coins", "amount": 40, "reason": secret, "metadata": {"note": secret}}
        assert game.post(f"/players/{player}/wallet/credit", json=credit).status_code == 200
    sign_in(page, server)
    nav(page, "Players")
    page.get_by_label("Player ID").fill(player)
    page.get_by_role("button", name="Look up").click()
    journal = page.locator(".card").filter(has=page.get_by_role("heading", name="Journal"))
    expect(journal.get_by_role("cell", name="wallet.credited", exact=True)).to_be_visible()
    expect(journal.get_by_role("cell", name="credit", exact=True)).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="Export data").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    exported = json.loads(saved.read_text())
    assert exported["playerId"] == player and exported["wallet"] == {"coins": 40}
    assert secret in saved.read_text()

    page.get_by_role("button", name="Erase personal data").click()
    confirm(page, "Erase")
    expect(page.get_by_role("status")).to_contain_text(f"Player {player} was erased")
    with server.game() as game:
        assert game.get(f"/players/{player}").status_code == 404
    expect(page.get_by_role("alert")).to_have_count(0)


def test_the_economy_editor_shows_the_leaderboards_and_lists_a_board_change_for_review(
    page: Page, server: Server
) -> None:
    sign_in(page, server)
    nav(page, "Economy")
    page.get_by_role("tab", name="Leaderboards").click()
    high_score = page.get_by_label("Leaderboard 3 (high-score)")
    expect(high_score).to_have_value(re.compile(r'"metric": "submitted"'))
    page.get_by_role("button", name="Add leaderboard").click()
    page.get_by_role("button", name="Review and publish").click()
    review = page.get_by_role("dialog", name=re.compile("Review changes before publishing"))
    expect(review.get_by_role("list", name="Changes")).to_contain_text("+leaderboard new-board")


def test_defaults_left_out_are_no_change_to_publish(page: Page, server: Server) -> None:
    """The editor asks the server what changed (a dry run of the PUT): the published document is
    in canonical form (defaults written out); a leaderboard with its default `operator` and
    `order` left out is the same economy, so there is nothing to publish."""
    with server.admin() as admin:
        before = admin.get(ECONOMY).json()
    published = before["document"]

    def without_defaults(i: int) -> dict[str, Any]:
        return {k: v for k, v in published["leaderboards"][i].items() if k not in ("operator", "order")}

    def same_economy(i: int) -> bool:
        boards = [without_defaults(i) if j == i else b for j, b in enumerate(published["leaderboards"])]
        return economy_to_document(parse_economy({**published, "leaderboards": boards})) == published

    i = next(i for i in range(len(published["leaderboards"])) if same_economy(i))
    shorter = without_defaults(i)
    assert shorter != published["leaderboards"][i]  # an edit, yet the same economy

    sign_in(page, server)
    nav(page, "Economy")
    page.get_by_role("tab", name="Leaderboards").click()
    page.get_by_label(f"Leaderboard {i + 1} ({shorter['id']})").fill(json.dumps(shorter, indent=2))
    expect(page.get_by_text("No unpublished changes (only defaults written out or left out)")).to_be_visible()
    page.get_by_role("button", name="Review and publish").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing to publish")
    expect(page.get_by_role("dialog")).to_have_count(0)
    screenshot(page, "client-economy-no-change")
    with server.admin() as admin:
        assert admin.get(ECONOMY).json() == before  # the dry runs stored nothing


def test_an_item_s_effects_are_edited_as_json_and_its_boost_shows_in_player_lookup(page: Page, server: Server) -> None:
    with server.admin() as admin:
        version = admin.get(ECONOMY).json()["version"]
    effects = [{"kind": "boost", "metric": "xp", "multiplier": 2, "durationS": 3600}]
    sign_in(page, server)
    nav(page, "Economy")
    page.get_by_role("tab", name="Items").click()
    page.get_by_label("Item 2 effects").fill(json.dumps(effects))
    page.get_by_role("button", name="Review and publish").click()
    review = page.get_by_role("dialog", name=f"Review changes before publishing version {version + 1}")
    expect(review.get_by_role("list", name="Changes")).to_contain_text("item potion: effects none ->")
    review.get_by_role("button", name=f"Publish version {version + 1}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Published version {version + 1}.")
    with server.admin() as admin:
        assert admin.get(ECONOMY).json()["document"]["items"][1]["effects"] == effects

    player = new_player(server)
    with server.game() as game:
        assert game.post(f"/players/{player}/items/grant", json={"itemId": "potion", "quantity": 1}).status_code == 200
        assert (
            game.post(f"/players/{player}/items/consume", json={"itemId": "potion", "quantity": 1}).status_code == 200
        )
        assert game.post(f"/players/{player}/xp", json={"amount": 10}).json()["xp"] == 20
    nav(page, "Players")
    page.get_by_label("Player ID").fill(player)
    page.get_by_role("button", name="Look up").click()
    boosts = page.locator(".card").filter(has=page.get_by_role("heading", name="Boosts"))
    expect(boosts.get_by_role("cell", name="xp", exact=True)).to_be_visible()
    expect(boosts.get_by_role("cell", name="×2", exact=True)).to_be_visible()

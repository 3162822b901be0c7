"""Driving the console the way a person does: by labels, roles and button names."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sign_in(page: Page, server: Server, email: str | None = None, password: str | None = None) -> None:
    """Signs in on the sign-in page and waits for the console's first page."""
    page.goto(f"{server.base_url}/dashboard/")
    page.get_by_label("Email").fill(email or server.credentials["adminEmail"])
    page.get_by_label("Password").fill(password or server.credentials["adminPassword"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def nav(page: Page, name: str) -> None:
    """Opens a page by its navigation link and waits for its heading."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def confirm(page: Page, button: str) -> None:
    """Answers the confirmation every destructive action asks for."""
    dialog = page.get_by_role("dialog", name="Please confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_be_hidden()


def settled(page: Page) -> None:
    """Waits until no list is reloading: a reload keeps the old rows (dimmed, `aria-busy`) until
    the answer is in, so a check made earlier would read the old rows."""
    expect(page.locator(".paged > [aria-busy=true]")).to_have_count(0)


def new_player(server: Server) -> str:
    player_id = unique("pl")
    with server.game() as game:
        created = game.post("/players", json={"playerId": player_id, "username": player_id})
    assert created.status_code == 201, created.text
    return player_id


def eventually(check: Callable[[], Any], timeout_s: float = 30.0, every_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every_s)

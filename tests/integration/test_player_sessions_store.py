"""Player sessions over each store (SQLite, and MongoDB over nx-27017): device links agree under
concurrent first sign-ins, refresh tokens are kept only as hashes and rotate with reuse
detection, bans and revocations end sessions at once, settings seal the secret at rest."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from actors.clock import FakeClock
from actors.ingress.player_sessions import DEVICES, PLAYER_AUTH, SETTINGS, PlayerSessions, Tokens
from actors.secret_box import SecretBox, is_sealed
from actors.stores.base import Store
from config.settings import Settings
from engine import player_auth as pa
from engine.rules import rfc3339

T, P = "acme", "space"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sessions(store: Store, clock: FakeClock, tmp_path: Path) -> PlayerSessions:
    async def key() -> str:
        return "signing-key-" + "k" * 40

    return PlayerSessions(store, key, SecretBox.from_settings(Settings(data_dir=tmp_path)), clock)


async def test_concurrent_first_sign_ins_of_a_device_link_one_player(sessions: PlayerSessions, store: Store) -> None:
    found = await asyncio.gather(*(sessions.device_player(T, P, "device-0123456789abcdef") for _ in range(8)))
    assert len({player for player, _ in found}) == 1
    assert sum(created for _, created in found) == 1
    stored = await store.list_documents(DEVICES, tenant=T)
    assert len(stored) == 1 and "device-0123456789abcdef" not in json.dumps(stored)


async def test_refresh_tokens_rotate_are_stored_as_hashes_and_a_reuse_ends_every_session(
    sessions: PlayerSessions, store: Store
) -> None:
    first = await sessions.sign_in(T, P, "ada", "device")
    second = await sessions.sign_in(T, P, "ada", "device")
    stored = json.dumps(await store.get_document(PLAYER_AUTH, f"{T}/{P}/ada"))
    assert first.refresh_token not in stored and first.refresh_token.split("_", 2)[2] not in stored
    renewed = await sessions.refresh(T, P, first.refresh_token)
    assert (await sessions.authenticate(T, P, renewed.access_token)).player_id == "ada"
    with pytest.raises(pa.RefreshTokenReusedError):
        await sessions.refresh(T, P, first.refresh_token)
    for tokens in (renewed, second):
        with pytest.raises(pa.InvalidPlayerTokenError):
            await sessions.authenticate(T, P, tokens.access_token)
    assert (await sessions.sessions(T, P, "ada"))["items"] == []


async def test_concurrent_refreshes_of_one_token_yield_one_new_pair(sessions: PlayerSessions) -> None:
    tokens = await sessions.sign_in(T, P, "ada", "device")
    answers = await asyncio.gather(
        *(sessions.refresh(T, P, tokens.refresh_token) for _ in range(4)), return_exceptions=True
    )
    assert sum(isinstance(a, Tokens) for a in answers) == 1
    refusals = [a for a in answers if isinstance(a, Exception)]
    assert all(isinstance(a, pa.RefreshTokenReusedError | pa.InvalidPlayerTokenError) for a in refusals)
    assert any(isinstance(a, pa.RefreshTokenReusedError) for a in refusals)


async def test_a_ban_ends_sessions_until_it_expires(sessions: PlayerSessions, clock: FakeClock) -> None:
    tokens = await sessions.sign_in(T, P, "ada", "device")
    await sessions.ban(T, P, "ada", "cheating", rfc3339(clock.now() + timedelta(hours=1)))
    with pytest.raises(pa.PlayerBannedError):
        await sessions.authenticate(T, P, tokens.access_token)
    with pytest.raises(pa.PlayerBannedError):
        await sessions.sign_in(T, P, "ada", "device")
    assert (await sessions.sessions(T, P, "ada"))["ban"]["reason"] == "cheating"
    clock.advance(2 * 3600)
    assert (await sessions.sign_in(T, P, "ada", "device")).player_id == "ada"


async def test_revoke_all_and_logout_end_sessions_at_once(sessions: PlayerSessions) -> None:
    a, b = await sessions.sign_in(T, P, "ada", "device"), await sessions.sign_in(T, P, "ada", "custom")
    assert await sessions.logout(T, P, a.refresh_token) is True
    assert await sessions.logout(T, P, a.refresh_token) is False
    with pytest.raises(pa.InvalidPlayerTokenError):
        await sessions.authenticate(T, P, a.access_token)
    assert await sessions.revoke_all(T, P, "ada") == 1
    with pytest.raises(pa.InvalidPlayerTokenError):
        await sessions.authenticate(T, P, b.access_token)


async def test_an_access_token_of_another_project_is_refused(sessions: PlayerSessions) -> None:
    tokens = await sessions.sign_in(T, P, "ada", "device")
    with pytest.raises(pa.InvalidPlayerTokenError):
        await sessions.authenticate(T, "other", tokens.access_token)
    with pytest.raises(pa.InvalidPlayerTokenError):
        await sessions.refresh(T, "other", tokens.refresh_token)


async def test_settings_seal_the_secret_and_index_origins_by_project(sessions: PlayerSessions, store: Store) -> None:
    _, after = await sessions.update_settings(
        T, P, device_sign_in=False, allowed_origins=["https://a.example"], secret="s" * 40
    )
    assert after == {
        "deviceSignIn": False,
        "allowedOrigins": ["https://a.example"],
        "hasSecret": True,
        "publicKeys": [],
    }
    stored = await store.get_document(SETTINGS, f"{T}/{P}")
    assert stored is not None and is_sealed(stored["secret"]) and "s" * 40 not in json.dumps(stored)
    await sessions.update_settings("other", P, allowed_origins=["https://b.example"])
    assert await sessions.origins_of(P) == {T: ["https://a.example"], "other": ["https://b.example"]}
    with pytest.raises(pa.DeviceSignInDisabledError):
        await sessions.device_player(T, P, "device-0123456789abcdef")

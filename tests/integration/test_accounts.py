"""Dashboard accounts over a real SQLite store, with a fake clock for expiry and backoff:
password hashing, login errors without user enumeration, failed-login backoff, access tokens,
refresh-token rotation and theft detection, logout and TOTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pyotp
import pytest
from cryptography.fernet import Fernet

from actors.clock import FakeClock
from actors.ingress.accounts import (
    LOCK_AFTER_FAILURES,
    REFRESH_TOKENS,
    USERS,
    AccountService,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidTokenError,
    InvalidTotpError,
    LoginThrottledError,
    TokenReusedError,
    TotpRequiredError,
    WeakPasswordError,
    token_hash,
)
from actors.secret_box import SecretBox, SecretKeyError
from actors.stores.sqlite import SqliteStore
from config.settings import Settings
from engine.rbac import Membership, Principal, can
from serve.problems import STATUS_BY_SLUG

PASSWORD = "correct horse battery staple"
KEY = "k" * 64


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def box(tmp_path: Path) -> SecretBox:
    return SecretBox.from_settings(Settings(data_dir=tmp_path))


@pytest.fixture
def accounts(store: SqliteStore, clock: FakeClock, box: SecretBox) -> AccountService:
    return AccountService(store, clock, signing_key=KEY, box=box)


async def make_user(accounts: AccountService, email: str = "ada@example.com", **options: Any) -> dict[str, Any]:
    return await accounts.create_user(email, PASSWORD, **options)


async def test_passwords_are_stored_as_argon2id_hashes_never_in_plaintext(
    accounts: AccountService, store: SqliteStore, tmp_path: Path
) -> None:
    user = await make_user(accounts, "Ada@Example.com", platform_role="admin")
    stored = await store.get_document(USERS, user["id"])
    assert stored is not None
    assert stored["passwordHash"].startswith("$argon2id$")
    assert PASSWORD not in str(stored)
    assert stored["email"] == "ada@example.com" and user["id"].startswith("usr_")
    assert PASSWORD.encode() not in (tmp_path / "ludex.sqlite3").read_bytes()
    assert (await accounts.find_user_by_email("ADA@example.com"))["id"] == user["id"]  # type: ignore[index]


async def test_short_passwords_and_duplicate_emails_are_refused(accounts: AccountService) -> None:
    with pytest.raises(WeakPasswordError) as weak:
        await accounts.create_user("bob@example.com", "short-pass1")
    assert weak.value.slug == "weak-password" and STATUS_BY_SLUG[weak.value.slug] == 422
    await make_user(accounts)
    with pytest.raises(EmailTakenError) as taken:
        await make_user(accounts, " ADA@example.com ")
    assert taken.value.slug == "email-taken" and STATUS_BY_SLUG[taken.value.slug] == 409


async def test_principal_for_a_user_carries_roles_and_memberships(accounts: AccountService) -> None:
    user = await make_user(
        accounts,
        memberships=[Membership("acme", "developer", ("space",)), {"tenantId": "zeta", "role": "owner"}],
    )
    principal = accounts.principal_for(user)
    assert principal == Principal(
        user["id"],
        "ada@example.com",
        None,
        (Membership("acme", "developer", ("space",)), Membership("zeta", "owner", ("*",))),
    )
    assert can(principal, "economy:write", "acme", "space") and not can(principal, "economy:write", "acme", "other")


async def test_wrong_password_and_unknown_email_are_the_same_error(accounts: AccountService) -> None:
    await make_user(accounts)
    tokens = await accounts.login("ada@example.com", PASSWORD)
    assert tokens["tokenType"] == "Bearer" and tokens["expiresIn"] == 900
    assert tokens["refreshToken"].startswith("rt_")
    with pytest.raises(InvalidCredentialsError) as wrong:
        await accounts.login("ada@example.com", PASSWORD + "!")
    with pytest.raises(InvalidCredentialsError) as unknown:
        await accounts.login("nobody@example.com", PASSWORD)
    assert (
        (wrong.value.slug, wrong.value.detail)
        == (unknown.value.slug, unknown.value.detail)
        == (
            "invalid-credentials",
            "the email or password is wrong",
        )
    )


async def test_failed_logins_back_off_exponentially_and_success_resets(
    accounts: AccountService, clock: FakeClock
) -> None:
    await make_user(accounts)
    for _ in range(4):
        with pytest.raises(InvalidCredentialsError):
            await accounts.login("ada@example.com", "wrong password!")
    await accounts.login("ada@example.com", PASSWORD)  # 4 failures: not yet locked; success resets
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            await accounts.login("ada@example.com", "wrong password!")
    waits = []
    for _ in range(4):
        with pytest.raises(LoginThrottledError) as throttled:
            await accounts.login("ada@example.com", PASSWORD)  # even the right password waits
        assert throttled.value.slug == "login-throttled" and STATUS_BY_SLUG[throttled.value.slug] == 429
        waits.append(throttled.value.retry_after_s)
        clock.advance(throttled.value.retry_after_s)
        with pytest.raises(InvalidCredentialsError):
            await accounts.login("ada@example.com", "wrong password!")
    assert waits == [1, 2, 4, 8]
    with pytest.raises(LoginThrottledError) as throttled:
        await accounts.login("ada@example.com", PASSWORD)
    clock.advance(throttled.value.retry_after_s)
    await accounts.login("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentialsError):  # the count starts again from zero
        await accounts.login("ada@example.com", "wrong password!")
    await accounts.login("ada@example.com", PASSWORD)


async def test_the_lockout_is_capped_at_15_minutes(accounts: AccountService, store: SqliteStore) -> None:
    user = await make_user(accounts)
    stored = await store.get_document(USERS, user["id"])
    assert stored is not None
    stored["failedLogins"] = 40
    await store.put_document(USERS, user["id"], stored)
    with pytest.raises(InvalidCredentialsError):
        await accounts.login("ada@example.com", "wrong password!")
    with pytest.raises(LoginThrottledError) as throttled:
        await accounts.login("ada@example.com", PASSWORD)
    assert throttled.value.retry_after_s == 900


async def test_access_tokens_round_trip_and_expire(accounts: AccountService, clock: FakeClock) -> None:
    user = await make_user(accounts, platform_role="superadmin")
    tokens = await accounts.login("ada@example.com", PASSWORD)
    principal = await accounts.verify_access_token(tokens["accessToken"])
    assert principal == accounts.principal_for(user)
    claims = jwt.decode(tokens["accessToken"], KEY, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["typ"] == "access" and claims["exp"] - claims["iat"] == 900 and claims["jti"]
    assert Principal.from_claims(claims) == principal
    clock.advance(899)
    await accounts.verify_access_token(tokens["accessToken"])
    clock.advance(1)
    with pytest.raises(InvalidTokenError):
        await accounts.verify_access_token(tokens["accessToken"])


async def test_forged_or_foreign_tokens_are_refused(accounts: AccountService, store: SqliteStore) -> None:
    await make_user(accounts)
    tokens = await accounts.login("ada@example.com", PASSWORD)
    claims = jwt.decode(tokens["accessToken"], KEY, algorithms=["HS256"], options={"verify_exp": False})
    for forged in (
        jwt.encode({**claims, "prole": "superadmin"}, "x" * 64, algorithm="HS256"),
        jwt.encode({**claims, "typ": "refresh"}, KEY, algorithm="HS256"),
        jwt.encode(claims, None, algorithm="none"),
        "not-a-jwt",
        tokens["refreshToken"],
    ):
        with pytest.raises(InvalidTokenError):
            await accounts.verify_access_token(forged)
    other = AccountService(store, accounts.clock, box=accounts.box)  # no explicit key: the store's generated key
    with pytest.raises(InvalidTokenError):
        await other.verify_access_token(tokens["accessToken"])


async def test_the_generated_signing_key_is_shared_through_the_store(
    store: SqliteStore, clock: FakeClock, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LUDEX_AUTH_SECRET", raising=False)
    first, second = AccountService(store, clock, box=box), AccountService(store, clock, box=box)
    await first.create_user("ada@example.com", PASSWORD)
    tokens = await first.login("ada@example.com", PASSWORD)
    assert (await second.verify_access_token(tokens["accessToken"])).email == "ada@example.com"
    stored = await store.get_document("secrets", "auth-signing-key")
    assert stored is not None and stored["key"] != await first.signing_key()  # kept sealed
    assert await first.signing_key() == await second.signing_key() == box.open(stored["key"])
    monkeypatch.setenv("LUDEX_AUTH_SECRET", "e" * 64)
    assert await AccountService(store, clock, box=box).signing_key() == "e" * 64


async def test_refresh_rotates_the_pair_and_spends_the_old_refresh_token(
    accounts: AccountService, store: SqliteStore, clock: FakeClock
) -> None:
    await make_user(accounts)
    first = await accounts.login("ada@example.com", PASSWORD)
    clock.advance(60)
    second = await accounts.refresh(first["refreshToken"])
    assert second["refreshToken"] != first["refreshToken"] and second["accessToken"] != first["accessToken"]
    old = await store.get_document(REFRESH_TOKENS, token_hash(first["refreshToken"]))
    new = await store.get_document(REFRESH_TOKENS, token_hash(second["refreshToken"]))
    assert old is not None and new is not None
    assert old["usedAt"] and old["family"] == new["family"] and new["usedAt"] is None
    assert first["refreshToken"] not in str(old)  # stored hashed only
    third = await accounts.refresh(second["refreshToken"])
    await accounts.verify_access_token(third["accessToken"])
    with pytest.raises(InvalidTokenError):
        await accounts.refresh("rt_unknown")


async def test_reusing_a_refresh_token_revokes_the_whole_family(accounts: AccountService) -> None:
    await make_user(accounts)
    first = await accounts.login("ada@example.com", PASSWORD)
    other_session = await accounts.login("ada@example.com", PASSWORD)
    second = await accounts.refresh(first["refreshToken"])
    with pytest.raises(TokenReusedError) as reused:
        await accounts.refresh(first["refreshToken"])
    assert reused.value.slug == "token-reused"
    with pytest.raises(InvalidTokenError):  # the newer tokens of the family die too
        await accounts.refresh(second["refreshToken"])
    with pytest.raises(InvalidTokenError):
        await accounts.verify_access_token(second["accessToken"])
    with pytest.raises(InvalidTokenError):
        await accounts.verify_access_token(first["accessToken"])
    await accounts.verify_access_token(other_session["accessToken"])  # another login is untouched
    await accounts.refresh(other_session["refreshToken"])


async def test_refresh_tokens_expire_after_30_days(accounts: AccountService, clock: FakeClock) -> None:
    await make_user(accounts)
    tokens = await accounts.login("ada@example.com", PASSWORD)
    clock.advance(30 * 24 * 3600)
    with pytest.raises(InvalidTokenError):
        await accounts.refresh(tokens["refreshToken"])


async def test_logout_revokes_the_session(accounts: AccountService) -> None:
    await make_user(accounts)
    tokens = await accounts.login("ada@example.com", PASSWORD)
    rotated = await accounts.refresh(tokens["refreshToken"])
    await accounts.logout(rotated["refreshToken"])
    await accounts.logout(rotated["refreshToken"])  # idempotent
    with pytest.raises(InvalidTokenError):
        await accounts.refresh(rotated["refreshToken"])
    with pytest.raises(InvalidTokenError):
        await accounts.verify_access_token(rotated["accessToken"])
    with pytest.raises(InvalidTokenError):
        await accounts.logout("rt_unknown")


async def test_disabled_users_cannot_log_in_or_use_their_tokens(accounts: AccountService, store: SqliteStore) -> None:
    user = await make_user(accounts)
    tokens = await accounts.login("ada@example.com", PASSWORD)
    user["disabled"] = True
    await store.put_document(USERS, user["id"], user)
    with pytest.raises(InvalidCredentialsError):
        await accounts.login("ada@example.com", PASSWORD)
    with pytest.raises(InvalidTokenError):
        await accounts.verify_access_token(tokens["accessToken"])
    with pytest.raises(InvalidTokenError):
        await accounts.refresh(tokens["refreshToken"])


async def test_totp_setup_verify_then_login_requires_a_fresh_code(accounts: AccountService, clock: FakeClock) -> None:
    user = await make_user(accounts)
    setup = await accounts.totp_setup(user["id"], PASSWORD)
    assert setup["otpauthUri"].startswith("otpauth://totp/") and "Ludex" in setup["otpauthUri"]
    totp = pyotp.TOTP(setup["secret"])
    await accounts.login("ada@example.com", PASSWORD)  # not in force before verification
    with pytest.raises(InvalidTotpError):
        await accounts.totp_verify(user["id"], "000000" if totp.at(clock.now()) != "000000" else "111111")
    assert await accounts.totp_verify(user["id"], totp.at(clock.now())) is True
    with pytest.raises(TotpRequiredError) as required:
        await accounts.login("ada@example.com", PASSWORD)
    assert required.value.slug == "totp-required"
    with pytest.raises(InvalidTotpError):
        await accounts.login("ada@example.com", PASSWORD, totp="12345x")
    with pytest.raises(InvalidCredentialsError):  # the password is still checked first
        await accounts.login("ada@example.com", "wrong password!", totp=totp.at(clock.now()))
    tokens = await accounts.login("ada@example.com", PASSWORD, totp=totp.at(clock.now()))
    await accounts.verify_access_token(tokens["accessToken"])
    with pytest.raises(InvalidTotpError):  # a code works once
        await accounts.login("ada@example.com", PASSWORD, totp=totp.at(clock.now()))
    clock.advance(30)
    await accounts.login("ada@example.com", PASSWORD, totp=totp.at(clock.now()))
    clock.advance(120)
    with pytest.raises(InvalidTotpError):  # an old code is refused
        await accounts.login("ada@example.com", PASSWORD, totp=totp.at(clock.now() - timedelta(seconds=90)))


async def test_a_new_totp_setup_does_not_weaken_an_enabled_2fa(accounts: AccountService, clock: FakeClock) -> None:
    user = await make_user(accounts)
    old = pyotp.TOTP((await accounts.totp_setup(user["id"], PASSWORD))["secret"])
    await accounts.totp_verify(user["id"], old.at(clock.now()))
    clock.advance(30)
    new = pyotp.TOTP((await accounts.totp_setup(user["id"], PASSWORD, old.at(clock.now())))["secret"])
    with pytest.raises(TotpRequiredError):
        await accounts.login("ada@example.com", PASSWORD)
    clock.advance(30)
    await accounts.login("ada@example.com", PASSWORD, totp=old.at(clock.now()))
    await accounts.totp_verify(user["id"], new.at(clock.now()))
    clock.advance(30)
    with pytest.raises(InvalidTotpError):
        await accounts.login("ada@example.com", PASSWORD, totp=old.at(clock.now()))
    clock.advance(30)
    await accounts.login("ada@example.com", PASSWORD, totp=new.at(clock.now()))


async def test_totp_setup_needs_the_password_and_once_enabled_a_current_code(
    accounts: AccountService, clock: FakeClock, store: SqliteStore
) -> None:
    """A stolen access token alone cannot replace or enable 2FA (account takeover)."""
    user = await make_user(accounts)
    with pytest.raises(InvalidCredentialsError) as wrong:
        await accounts.totp_setup(user["id"], "wrong password!")
    assert wrong.value.slug == "invalid-credentials" and STATUS_BY_SLUG[wrong.value.slug] == 401
    stored = await store.get_document(USERS, user["id"])
    assert stored is not None and stored["totpSecret"] is None and stored["failedLogins"] == 1
    totp = pyotp.TOTP((await accounts.totp_setup(user["id"], PASSWORD))["secret"])
    await accounts.totp_verify(user["id"], totp.at(clock.now()))
    clock.advance(30)

    # 2FA on: the password alone, a wrong code or a used code cannot stage a new secret.
    with pytest.raises(TotpRequiredError):
        await accounts.totp_setup(user["id"], PASSWORD)
    with pytest.raises(InvalidTotpError):
        await accounts.totp_setup(user["id"], PASSWORD, "000000" if totp.at(clock.now()) != "000000" else "111111")
    with pytest.raises(InvalidCredentialsError):
        await accounts.totp_setup(user["id"], "wrong password!", totp.at(clock.now()))
    stored = await store.get_document(USERS, user["id"])
    assert stored is not None and not stored.get("totpPendingSecret")
    code = totp.at(clock.now())
    assert (await accounts.totp_setup(user["id"], PASSWORD, code))["secret"]
    with pytest.raises(InvalidTotpError):  # the code was spent
        await accounts.login("ada@example.com", PASSWORD, totp=code)

    # Setup's failures count towards the login lock (with the spent code, four so far; a fifth
    # locks), and setup honours the lock.
    stored = await store.get_document(USERS, user["id"])
    assert stored is not None and stored["failedLogins"] == 4
    with pytest.raises(InvalidCredentialsError):
        await accounts.totp_setup(user["id"], "wrong password!", totp.at(clock.now()))
    with pytest.raises(LoginThrottledError):
        await accounts.totp_setup(user["id"], PASSWORD, totp.at(clock.now()))
    with pytest.raises(LoginThrottledError):
        await accounts.login("ada@example.com", PASSWORD, totp=totp.at(clock.now()))


async def test_changing_the_password_ends_every_session_of_the_user(accounts: AccountService) -> None:
    user = await make_user(accounts)
    first = await accounts.login("ada@example.com", PASSWORD)
    second = await accounts.login("ada@example.com", PASSWORD)
    await accounts.set_password(user["id"], "a brand new passphrase")
    for session in (first, second):
        with pytest.raises(InvalidTokenError):
            await accounts.verify_access_token(session["accessToken"])
        with pytest.raises(InvalidTokenError):
            await accounts.refresh(session["refreshToken"])
    fresh = await accounts.login("ada@example.com", "a brand new passphrase")
    assert (await accounts.verify_access_token(fresh["accessToken"])).user_id == user["id"]


async def test_a_token_naming_another_users_session_is_refused(accounts: AccountService) -> None:
    """A token is only as good as the session it names: one minted for Bob on Ada's session (a
    leaked signing key, a confused issuer) does not work while Ada's session lives."""
    await make_user(accounts)
    bob = await make_user(accounts, "bob@example.com", platform_role="superadmin")
    ada_session = await accounts.login("ada@example.com", PASSWORD)
    claims = jwt.decode(ada_session["accessToken"], KEY, algorithms=["HS256"], options={"verify_exp": False})
    claims.update(sub=bob["id"], email=bob["email"], prole="superadmin")
    forged = jwt.encode(claims, KEY, algorithm="HS256")
    with pytest.raises(InvalidTokenError):
        await accounts.verify_access_token(forged)


async def test_a_copy_of_the_store_holds_no_usable_secret(
    store: SqliteStore, clock: FakeClock, box: SecretBox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TOTP secrets and the generated signing key are sealed with a key kept outside the store
    (here `<data dir>/secret.key`, mode 0600): the database file alone opens neither."""
    monkeypatch.delenv("LUDEX_AUTH_SECRET", raising=False)
    accounts = AccountService(store, clock, box=box)
    user = await make_user(accounts)
    setup = await accounts.totp_setup(user["id"], PASSWORD)
    assert await accounts.totp_verify(user["id"], pyotp.TOTP(setup["secret"]).at(clock.now()))
    signing_key = await accounts.signing_key()
    await store.close()
    database = b"".join(path.read_bytes() for path in tmp_path.glob("ludex.sqlite3*"))
    assert setup["secret"].encode() not in database and signing_key.encode() not in database
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"
    await store.open()
    stranger = AccountService(store, clock, box=SecretBox(Fernet.generate_key()))
    with pytest.raises(SecretKeyError):
        await stranger.signing_key()


async def test_secrets_kept_in_the_clear_by_0_1_0_still_work_and_are_sealed_on_first_use(
    store: SqliteStore, clock: FakeClock, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LUDEX_AUTH_SECRET", raising=False)
    await store.put_document("secrets", "auth-signing-key", {"id": "auth-signing-key", "key": "p" * 64})
    accounts = AccountService(store, clock, box=box)
    user = await make_user(accounts)
    plain = pyotp.random_base32()
    await store.put_document(USERS, user["id"], {**user, "totpSecret": plain, "totpEnabled": True})
    assert await accounts.signing_key() == "p" * 64
    tokens = await accounts.login("ada@example.com", PASSWORD, pyotp.TOTP(plain).at(clock.now()))
    assert (await accounts.verify_access_token(tokens["accessToken"])).user_id == user["id"]
    stored_key = await store.get_document("secrets", "auth-signing-key")
    stored_user = await store.get_document(USERS, user["id"])
    assert stored_key is not None and stored_user is not None
    assert stored_key["key"] != "p" * 64 and box.open(stored_key["key"]) == "p" * 64
    assert stored_user["totpSecret"] != plain and box.open(stored_user["totpSecret"]) == plain


async def test_fifty_parallel_wrong_passwords_on_two_replicas_all_count_and_lock(
    store: SqliteStore, clock: FakeClock, box: SecretBox
) -> None:
    """Each failure is recorded by compare-and-set: none is lost to another, on any replica."""
    replicas = [AccountService(store, clock, signing_key=KEY, box=box) for _ in range(2)]
    user = await make_user(replicas[0])

    async def wrong(index: int) -> BaseException:
        try:
            await replicas[index % 2].login("ada@example.com", "not the password at all")
        except (InvalidCredentialsError, LoginThrottledError) as refused:
            return refused
        raise AssertionError("a wrong password signed in")

    refusals = await asyncio.gather(*(wrong(i) for i in range(50)))
    counted = sum(isinstance(r, InvalidCredentialsError) for r in refusals)  # the rest met the lock
    stored = await store.get_document(USERS, user["id"])
    assert stored is not None and stored["lockedUntil"] is not None
    assert stored["failedLogins"] == counted >= 5, "every failure checked against the password is counted once"
    with pytest.raises(LoginThrottledError):
        await replicas[1].login("ada@example.com", PASSWORD)


async def test_one_totp_code_signs_in_once_even_on_two_replicas_at_once(
    store: SqliteStore, clock: FakeClock, box: SecretBox
) -> None:
    replicas = [AccountService(store, clock, signing_key=KEY, box=box) for _ in range(2)]
    user = await make_user(replicas[0])
    setup = await replicas[0].totp_setup(user["id"], PASSWORD)
    totp = pyotp.TOTP(setup["secret"])
    assert await replicas[0].totp_verify(user["id"], totp.at(clock.now()))
    clock.advance(60)
    code = totp.at(clock.now())
    outcomes = await asyncio.gather(
        *(r.login("ada@example.com", PASSWORD, code) for r in replicas), return_exceptions=True
    )
    assert sum(isinstance(o, dict) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, InvalidTotpError) for o in outcomes) == 1, outcomes


async def test_a_refresh_token_spent_on_two_replicas_at_once_wins_once_and_revokes_the_session(
    store: SqliteStore, clock: FakeClock, box: SecretBox
) -> None:
    replicas = [AccountService(store, clock, signing_key=KEY, box=box) for _ in range(2)]
    await make_user(replicas[0])
    tokens = await replicas[0].login("ada@example.com", PASSWORD)
    outcomes = await asyncio.gather(*(r.refresh(tokens["refreshToken"]) for r in replicas), return_exceptions=True)
    assert sum(isinstance(o, dict) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, TokenReusedError) for o in outcomes) == 1, outcomes
    winner = next(o for o in outcomes if isinstance(o, dict))
    with pytest.raises(InvalidTokenError):  # reuse revoked the whole family, the winner's tokens too
        await replicas[1].verify_access_token(winner["accessToken"])


async def test_parallel_wrong_passwords_on_two_replicas_get_at_most_five_checks(
    store: SqliteStore, clock: FakeClock, box: SecretBox
) -> None:
    """Each attempt is counted before its password is checked: the fifth takes the lock, and the
    rest are refused unchecked, however many arrive at once."""
    replicas = [AccountService(store, clock, signing_key=KEY, box=box) for _ in range(2)]
    await make_user(replicas[0])
    refusals = await asyncio.gather(
        *(replicas[i % 2].login("ada@example.com", f"guess number {i}") for i in range(30)), return_exceptions=True
    )
    checked = sum(isinstance(r, InvalidCredentialsError) for r in refusals)
    assert checked <= LOCK_AFTER_FAILURES and checked + sum(isinstance(r, LoginThrottledError) for r in refusals) == 30
    clock.advance(1)  # the lock the fifth failure took ends: the right password signs in
    assert await replicas[0].login("ada@example.com", PASSWORD)

"""Secrets go to the real OS keyring (Secret Service under CI) and nowhere else."""

from __future__ import annotations

import os
import uuid

import pytest

from calsync_desktop.accounts.base import SERVICE_NAME, KeyringSecrets


def real_keyring():
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    usable = not isinstance(backend, fail.Keyring) and "chainer" not in type(backend).__module__
    try:
        usable = usable and backend.priority > 0
    except Exception:
        usable = False
    if not usable:
        if os.environ.get("CALSYNC_REQUIRE_KEYRING"):
            pytest.fail(f"No Secret Service keyring available (got {backend!r})")
        pytest.skip("no OS keyring here; scripts/test runs one")
    return backend


@pytest.fixture
def secrets():
    return KeyringSecrets(real_keyring())


def test_secrets_round_trip_through_the_os_keyring(secrets):
    account = str(uuid.uuid4())
    secrets.set(account, "password", "s3cr3t-Pässwörd")
    assert secrets.get(account, "password") == "s3cr3t-Pässwörd"
    import keyring

    assert keyring.get_password(SERVICE_NAME, f"{account}/password") == "s3cr3t-Pässwörd"
    secrets.delete_all(account)
    assert secrets.get(account, "password") is None


def test_deleting_a_missing_secret_is_quiet_and_keeps_the_others(secrets):
    account = str(uuid.uuid4())
    secrets.set(account, "password", "kept")
    try:
        secrets.delete(account, "token")  # never stored: no error
        secrets.delete(str(uuid.uuid4()), "password")  # another account's: no error
        assert secrets.get(account, "token") is None
        assert secrets.get(account, "password") == "kept"
    finally:
        secrets.delete_all(account)
    assert secrets.get(account, "password") is None


def test_saving_an_account_puts_its_secret_in_the_keyring_not_the_database(tmp_path, secrets):
    from calsync_desktop.accounts import remove_account, save_account
    from calsync_desktop.accounts.memory import PendingMemoryAccount
    from calsync_desktop.services import Services

    services = Services.create(home=tmp_path, secrets=secrets, env={})
    pending = PendingMemoryAccount(services, "me@example.com")
    pending.secrets = {"password": "do-not-store-me-anywhere-else"}
    account = save_account(services, pending, "primary")
    assert secrets.get(account.id, "password") == "do-not-store-me-anywhere-else"
    services.store.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"do-not-store-me-anywhere-else" not in path.read_bytes(), path
    services = Services.create(home=tmp_path, secrets=secrets, env={})
    remove_account(services, account.id)
    assert secrets.get(account.id, "password") is None
    services.store.close()


def test_without_a_keyring_saving_says_so_plainly_and_stores_nothing(tmp_path):
    from keyring.backends import fail

    from calsync_desktop.accounts import save_account
    from calsync_desktop.accounts.base import KeyringUnavailable
    from calsync_desktop.accounts.memory import PendingMemoryAccount
    from calsync_desktop.services import Services

    services = Services.create(home=tmp_path, secrets=KeyringSecrets(fail.Keyring()), env={})
    pending = PendingMemoryAccount(services, "me@example.com")
    pending.secrets = {"password": "not-to-be-lost-silently"}
    with pytest.raises(KeyringUnavailable, match="No OS keyring is available"):
        save_account(services, pending, "primary")
    assert services.store.list_accounts() == []
    services.store.close()

"""``calsync profile`` and ``calsync settings``."""

from __future__ import annotations

from tests.cli.helpers import (
    _assert_usage_error,
)


def test_profile_show_and_set(cli):
    assert cli.json("profile") == {"name": "", "email": "", "accounts_with_other_email": []}
    cli.ok("profile", "--name", "Sam Seller", "--email", "sam@example.com")
    assert cli.store.get_setting("profile.email") == "sam@example.com"
    out = cli.ok("profile")
    assert "Sam Seller" in out and "sam@example.com" in out
    _assert_usage_error(cli("profile", "--email", "not-an-address"), "not an email address")
    assert cli.store.get_setting("profile.email") == "sam@example.com"


def test_settings_show_set_and_type_check(cli, tmp_path):
    everything = cli.json("settings")
    assert everything["sync.interval_minutes"] == 5
    assert everything["sync.send_invitations"] is False
    assert "sync.paused" in everything

    cli.ok("settings", "sync.interval_minutes", "15")
    cli.ok("settings", "sync.send_invitations", "yes")
    assert cli.json("settings", "sync.interval_minutes") == {"sync.interval_minutes": 15}
    assert cli.store.get_setting("sync.send_invitations") is True
    assert "sync.interval_minutes  15" in cli.ok("settings", "sync.interval_minutes")

    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    cli.ok("settings", "advanced.ca_bundle", str(bundle))
    assert cli.store.get_setting("advanced.ca_bundle") == str(bundle.resolve())

    _assert_usage_error(cli("settings", "sync.interval_minutes", "often"), "whole number")
    _assert_usage_error(cli("settings", "sync.interval_minutes", "0"), "from 1 to 240")
    _assert_usage_error(cli("settings", "sync.send_invitations", "maybe"), "true or false")
    _assert_usage_error(
        cli("settings", "advanced.ca_bundle", str(tmp_path / "nope")), "no such file"
    )
    _assert_usage_error(cli("settings", "no.such.key", "1"), "Unknown setting")
    assert cli.store.get_setting("sync.interval_minutes") == 15

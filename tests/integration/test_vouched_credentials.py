"""Credentials the record vouches for (issue 19 part 3).

Attacked the way someone with the database file would: rewrite a credential row
(the append-only triggers dropped and put back), then run ``ledger verify``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo_db import Attacker, demo_copy, verify

from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import accounts
from coldcheck.services.actions import add_person, init_production, set_pin
from coldcheck.services.context import context
from coldcheck.services.verify import verify_ledger
from coldcheck.services.vouch import CODE

AT = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return demo_copy(tmp_path / "demo")


def pins(s: Settings) -> dict[str, str]:
    with Attacker(Path(s.database_url)) as x:
        return {str(p): str(h) for p, h in x.sql("SELECT person_id, pin_hash FROM credentials")}


def test_the_demo_vouches_for_every_pin(demo: Settings) -> None:
    r = verify(demo)
    assert r.ok, [f.line() for f in r.failures]
    assert not [w for w in r.warnings if "PIN" in w]
    assert len(pins(demo)) >= 3


def test_a_pin_hash_copied_onto_another_person_is_caught_naming_them(demo: Settings) -> None:
    have = pins(demo)
    armorer, other = sorted(have)[0], sorted(have)[1]
    with Attacker(Path(demo.database_url)) as x:
        x.sql("UPDATE credentials SET pin_hash = ? WHERE person_id = ?", have[armorer], other)
    r = verify(demo)
    assert not r.ok
    found = [f for f in r.failures if f.code == CODE]
    assert [f.subject for f in found] == [f"person:{other}"], [f.line() for f in r.failures]
    assert "replaced outside coldcheck" in found[0].message


def test_a_pin_row_for_someone_the_record_never_gave_one_is_caught(demo: Settings) -> None:
    have = pins(demo)
    with Attacker(Path(demo.database_url)) as x:
        x.sql("DELETE FROM credentials WHERE person_id = ?", sorted(have)[0])
    r = verify(demo)
    assert [f.subject for f in r.failures if f.code == CODE] == [f"person:{sorted(have)[0]}"]


def _production(s: Settings) -> tuple[Store, str]:
    store = Store(s.database_url)
    ctx = init_production(store=store, settings=s, production="vouch", name="Vouch", at=AT)
    add_person(ctx, name="Ann Armorer", roles=["armorer"], badge="B1", pin="2468",
               qualification_expires="2030-01-01", at=AT)
    add_person(ctx, name="Pat Performer", roles=["performer"], badge="B2", pin="1357", at=AT)
    return store, "vouch"


def test_links_devices_and_pins_verify_and_a_tampered_row_fails(
        backend_settings: Settings) -> None:
    s = backend_settings
    store, prod = _production(s)
    try:
        ph = hasher(s.argon2_profile)
        accounts.add_member(store, ph=ph, production=prod, person="P1", username="ann",
                            password="correct horse battery", at=AT)
        accounts.add_member(store, ph=ph, production=prod, person="P2", username="pat",
                            password="another long password", at=AT)
        ann = accounts.account_of_username(store, "ann")
        dev = accounts.register_device(store, production=prod, name="Cart tablet",
                                       account_id=ann, at=AT)
        gone = accounts.register_device(store, production=prod, name="Old phone",
                                        account_id=ann, at=AT)
        accounts.revoke_device(store, production=prod, device=gone["id"], account_id=ann, at=AT)
        ctx = context(s, prod, store=store)
        set_pin(ctx, person="P2", pin="9753", actor="P1", at=AT)
        ok = verify_ledger(ctx)
        assert ok.ok, [f.line() for f in ok.failures]
        types = [e.type for e in store.events(prod)]
        assert types.count("account.linked") == 2 and types.count("device.registered") == 2
        assert types.count("device.revoked") == 1

        def caught() -> list[str]:
            return [f.subject for f in verify_ledger(context(s, prod, store=store)).failures
                    if f.code == CODE]

        with store.engine.begin() as c:  # the performer's account re-linked to the armorer
            c.exec_driver_sql("UPDATE memberships SET person_id = 'P9' WHERE person_id = 'P2'")
            c.exec_driver_sql("UPDATE memberships SET person_id = 'P2' WHERE person_id = 'P1'")
            c.exec_driver_sql("UPDATE memberships SET person_id = 'P1' WHERE person_id = 'P9'")
        assert caught() == ["account:ann", "account:pat"]
        with store.engine.begin() as c:
            c.exec_driver_sql("UPDATE memberships SET person_id = 'P9' WHERE person_id = 'P2'")
            c.exec_driver_sql("UPDATE memberships SET person_id = 'P2' WHERE person_id = 'P1'")
            c.exec_driver_sql("UPDATE memberships SET person_id = 'P1' WHERE person_id = 'P9'")
        assert caught() == []
        with store.engine.begin() as c:  # a password hash swapped in
            c.exec_driver_sql("UPDATE accounts SET password_hash = "
                              "(SELECT password_hash FROM accounts WHERE username = 'ann') "
                              "WHERE username = 'pat'")
        assert caught() == ["account:pat"]
        with store.engine.begin() as c:  # a revoked device made usable, a key replaced
            c.exec_driver_sql(f"UPDATE devices SET revoked_at = NULL WHERE id = '{gone['id']}'")
            c.exec_driver_sql(f"UPDATE devices SET key_hash = 'ab' WHERE id = '{dev['id']}'")
        assert sorted(caught()) == sorted(["account:pat", f"device:{dev['id']}",
                                           f"device:{gone['id']}"])
        with store.engine.begin() as c:  # a device slipped in by hand
            c.exec_driver_sql("INSERT INTO devices (production_id, id, name, registered_by, "
                              "registered_at, revoked_at, key_hash) VALUES ('vouch', 'dev-x', "
                              f"'x', {ann}, '2026-11-24T08:00:00.000000Z', NULL, 'cd')")
        assert "device:dev-x" in caught()
    finally:
        store.dispose()


def test_the_server_will_not_start_on_a_database_whose_credentials_were_tampered(
        demo: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19 part 3: the server compares the credential tables with the record
    at start, as `ledger verify` does, and refuses to serve, naming the person."""
    import uvicorn

    from coldcheck import server

    started: list[bool] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(True))
    server.serve(demo, host="127.0.0.1", port=8999)  # untouched: it starts
    assert started == [True]
    have = pins(demo)
    armorer, other = sorted(have)[0], sorted(have)[1]
    with Attacker(Path(demo.database_url)) as x:
        x.sql("UPDATE credentials SET pin_hash = ? WHERE person_id = ?", have[armorer], other)
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        server.serve(demo, host="127.0.0.1", port=8999)
    assert stop.value.code == 5 and started == [True]
    err = capsys.readouterr().err
    assert f"{CODE}: person:{other}" in err and "will not serve" in err

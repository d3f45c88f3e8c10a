"""ledger.keys.seal_secret: a secret the server must read back (the alert
webhook's signing secret) sealed under the master key, bound to what it is for
and to its production."""

from __future__ import annotations

import secrets

import pytest

from coldcheck.ledger.keys import SealedKeyError, seal_secret, unseal_secret
from coldcheck.services import webhook as hook


def test_it_opens_only_for_its_purpose_production_and_master_key() -> None:
    master = secrets.token_bytes(32)
    sealed = seal_secret(b"whsec_abc", master, purpose="webhook", production="p1")
    assert b"whsec_abc" not in sealed
    assert unseal_secret(sealed, master, purpose="webhook", production="p1") == b"whsec_abc"
    with pytest.raises(SealedKeyError):
        unseal_secret(sealed, master, purpose="webhook", production="p2")
    with pytest.raises(SealedKeyError):
        unseal_secret(sealed, master, purpose="other", production="p1")
    with pytest.raises(SealedKeyError) as e:
        unseal_secret(sealed, secrets.token_bytes(32), purpose="webhook", production="p1")
    assert e.value.other_master
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealedKeyError):
        unseal_secret(flipped, master, purpose="webhook", production="p1")


def test_the_signature_is_hmac_sha256_of_the_timestamp_and_the_body() -> None:
    import hashlib
    import hmac

    body = b'{"id":"incident.opened:INC1"}'
    header = hook.sign("s3cret-s3cret-s3cret", 1700000000, body)
    expected = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + body,
                        hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert hook.verify_signature("s3cret-s3cret-s3cret", header, body)
    assert not hook.verify_signature("s3cret-s3cret-s3cret", header, body + b" ")
    assert not hook.verify_signature("s3cret-s3cret-s3cret", "garbage", body)


def test_backoff_doubles_from_30_seconds_to_an_hour() -> None:
    assert [hook.backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [
        30, 60, 120, 3600, 3600]

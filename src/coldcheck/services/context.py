"""What every use case needs: the store, the production, the device, a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argon2 import PasswordHasher

from ..config import Settings
from ..persistence.store import Store
from ..security import hasher


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    store: Store
    production: str
    settings: Settings
    device: str = "cli"
    clock: Callable[[], datetime] = utc_now
    ph: PasswordHasher = field(default_factory=hasher)

    def now(self, at: datetime | None = None) -> datetime:
        return at if at is not None else self.clock()


def open_store(settings: Settings) -> Store:
    return Store(settings.database_url)


def context(settings: Settings, production: str | None, *, store: Store | None = None,
            device: str | None = None) -> Context:
    st = store or open_store(settings)
    st.require_schema()
    prod = st.production(production)["id"]
    return Context(store=st, production=prod, settings=settings,
                   device=device or settings.device, ph=hasher(settings.argon2_profile))

"""API routes, one module per area, all on one router, in the order requests
are matched: the reads tablets poll first, then the custody actions."""

from fastapi import APIRouter

router = APIRouter()

# Each module adds its routes to ``router`` when imported: this order is the
# matching order.
from . import reads  # noqa: E402, I001
from . import session  # noqa: E402
from . import custody  # noqa: E402
from . import admin  # noqa: E402
from . import reports  # noqa: E402
from . import exports, rental, webhook  # noqa: E402

__all__ = ["admin", "custody", "exports", "reads", "rental", "reports", "router", "session",
           "webhook"]

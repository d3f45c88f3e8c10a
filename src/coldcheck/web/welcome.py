"""What `coldcheck serve` prints so a newcomer can start: the tablet address and,
on the demo production, who to sign in as."""

from __future__ import annotations

from ..demo import DEMO_PEOPLE, DEMO_PRODUCTION
from ..persistence.store import Store
from ..services import accounts


def welcome(store: Store, url: str) -> str:
    """The tablet app's address, and the demo sign-in names when the database
    holds the demo production with its demo accounts."""
    lines = [f"coldcheck tablet app: {url.rstrip('/')}/  (open it in a browser)"]
    prods = {p["id"]: p["name"] for p in store.productions()}
    if DEMO_PRODUCTION in prods:
        st = store.state(DEMO_PRODUCTION)
        members = accounts.members(store, DEMO_PRODUCTION)
        if members:
            lines.append(f"Demo production {prods[DEMO_PRODUCTION]}: sign in as")
            for m in members:
                p = st.people.get(str(m["person_id"]))
                if p is not None:
                    lines.append(f"  {m['username']:<8} {p.name} ({', '.join(p.roles)})")
            lines.append(f"  password for every demo account: {accounts.DEMO_PASSWORD}")
            pins = ", ".join(f"{p['name'].split()[0]} {p['pin']}" for p in DEMO_PEOPLE)
            lines.append(f"  demo witness PINs: {pins}")
            lines.append("  first sign in as an armorer or the producer and register the tablet "
                         "(This tablet): records name the device they were made on")
    return "\n".join(lines)

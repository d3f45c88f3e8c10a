"""Storage: the append-only event store, projections and ledger hashes."""

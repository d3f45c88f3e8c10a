"""coldcheck: chain of custody and a tamper-evident ledger for prop firearms on set."""

__version__ = "0.1.0"

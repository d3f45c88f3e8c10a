"""Use cases. The only layer that opens and commits transactions; CLI, API and
web call these and nothing below them."""

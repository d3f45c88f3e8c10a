"""The framework-free domain core: entities, events, the rule catalogue, decisions.

Nothing in this package imports anything outside the Python standard library
(a test enforces it), so the rules can be read, tested and reused on their own.
"""

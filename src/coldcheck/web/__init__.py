"""The tablet web app: server-rendered Jinja2 + htmx pages for the set.

It runs on the same services, accounts, browser sessions, CSRF tokens,
registered devices and permission matrix as the JSON API
(services/authorise.py and services/permissions.py decide who may do what, in
one place); only the rendering differs: pages and HTML fragments instead of
JSON. ``build_web(state)`` builds it on the state the API shares;
coldcheck.asgi puts the two side by side.
"""

from .app import build_web
from .welcome import welcome

__all__ = ["build_web", "welcome"]

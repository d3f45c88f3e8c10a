"""The tablet web app: server-rendered Jinja2 + htmx pages for the set.

It runs on the same services, accounts, browser sessions, CSRF tokens,
registered devices and permission matrix as the JSON API (api/auth.py and
api/permissions.py decide who may do what, in one place); only the rendering
differs: pages and HTML fragments instead of JSON. ``mount_web(app, settings)``
attaches it to the app that ``create_app`` built.
"""

from .front import mount_web
from .welcome import welcome

__all__ = ["mount_web", "welcome"]

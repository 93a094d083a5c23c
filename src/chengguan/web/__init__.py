"""The web interface: server-rendered pages (Jinja2 + htmx) for the people at a desk and on a phone.

How it is put together (read this before adding a screen):

- ``routing.py``: :class:`WebRoute` (every web router uses it) checks the CSRF token of every
  unsafe request, turns domain errors into HTML error pages (401 → the login page), sets the
  cookies queued during the request and adds the security headers.
- ``session.py``: the login session in HttpOnly cookies (why cookies carry the platform's own
  access/refresh tokens rather than a server-side session is argued there) and CSRF tokens.
- ``pages.py``: ``PageUser`` (the dependency every page takes: it logs the request in and binds
  the database session to the user's organisation) and ``render`` (a template with the shared
  context: translator, language, CSRF token, navigation).
- ``i18n.py`` + ``messages.json``: Chinese first, English on a cookie; every visible string is a
  catalogue key (``t("nav.inbox")``); state and action names come from the flow definitions.
- ``forms.py``: the workflow actions' forms, built from the flow's field specs, and the mapping of
  the engine's errors (``field="fields.result"``) to the field they name.
- Screens: ``home.py`` (login, logout, language, the role-aware home page), ``desk.py`` (the
  inbox and the event page), ``mobile.py`` (the officer's phone view and its PWA files).
- ``static/``: hand-written CSS/JS and the vendored libraries (``static/vendor/README.md``);
  nothing is loaded from a CDN.

Pages call the domains' service functions directly, never the HTTP API.
"""

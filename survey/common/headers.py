"""Security headers on every response.

One strict Content-Security-Policy for every page: scripts, styles and fonts come from
the platform's own static files only (no inline script or style anywhere: the kiosk's
idle reset is ``static/kiosk.js``), nothing may frame a page (staff pages hold personal
data and buttons worth click-jacking; citizen forms cannot work in a cross-site frame
anyway, their SameSite=Lax session cookie is not sent there), and forms post to the
platform only. ``data:`` images are allowed for the empty favicon of the base templates.

The Referer never leaves the site (``same-origin``): a citizen's address holds a link key
or a one-time token. Staff pages, sign-in and the API are never stored by a browser or a
proxy (``no-store``); static files keep the cache headers Flask gives them; views that
set their own ``Cache-Control`` (citizen pages, downloads) keep it. HSTS only in
production, where the platform is served over https.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
# Paths of staff pages, sign-in and the API (the citizen pages are /q, /k and /t).
STAFF_PATHS = ("/staff/", "/api/")
STAFF_PAGES = ("/", "/staff", "/login", "/logout")


def _is_staff(path: str) -> bool:
    return path in STAFF_PAGES or path.startswith(STAFF_PATHS) or path.startswith("/lang/")


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    if current_app.config.get("SIPAS_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if request.endpoint == "static":
        return response
    if _is_staff(request.path):
        if "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Cache-Control", "no-store")
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(security_headers)

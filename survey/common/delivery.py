"""How responses travel: compressed (Flask-Compress: Brotli or gzip, whichever the browser
accepts), and static files cached for a year under a versioned address.

``url_for('static', filename=...)`` adds ``v=<first 12 hex digits of the file's SHA-256>``;
a request carrying the current version gets ``Cache-Control: public, max-age=31536000,
immutable``, so a phone fetches the stylesheet once, not on every page, and a changed file
gets a new address. A request without a version (or with an old one) is revalidated as
before. Attachments (CSV, XLSX, PDF, ZIP) are not compressed here: they are either
compressed already or sent as downloads whose size the browser shows.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_compress import Compress

compress = Compress()

YEAR = 365 * 24 * 3600
COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "application/json",
                    "application/javascript", "text/javascript", "image/svg+xml"]


@cache
def _version(static_folder: str, filename: str) -> str | None:
    path = Path(static_folder, filename)
    try:
        resolved = path.resolve(strict=True)
    except (FileNotFoundError, OSError):
        return None
    if Path(static_folder).resolve() not in resolved.parents:
        return None
    return hashlib.sha256(resolved.read_bytes()).hexdigest()[:12]


def init_delivery(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    compress.init_app(app)
    static_folder = app.static_folder or ""
    if app.debug:  # files change while developing: hash them afresh each time
        def version(filename: str) -> str | None:
            _version.cache_clear()
            return _version(static_folder, filename)
    else:
        def version(filename: str) -> str | None:
            return _version(static_folder, filename)

    @app.url_defaults
    def _versioned_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            current = version(values["filename"])
            if current:
                values["v"] = current

    @app.after_request  # runs before the compressor's: it gets the bytes, file closed
    def _cache_versioned_static(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code == 200:
            if response.direct_passthrough:  # a static file is small: read it and close it
                iterable = response.response
                try:
                    body = b"".join(iterable)
                finally:
                    close = getattr(iterable, "close", None)
                    if close is not None:
                        close()
                response.direct_passthrough = False
                response.set_data(body)
            wanted = request.args.get("v")
            filename = (request.view_args or {}).get("filename", "")
            if wanted and wanted == version(filename):
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response

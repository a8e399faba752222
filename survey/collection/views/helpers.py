from __future__ import annotations

from typing import Literal

from flask import abort, request


def paper_size() -> Literal["A4", "A5"]:
    size = request.args.get("size", "A4")
    if size not in ("A4", "A5"):
        abort(404)
    return "A4" if size == "A4" else "A5"

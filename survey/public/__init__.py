"""Citizen pages reached from QR codes: no login, no JavaScript required."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from survey.public import views  # noqa: E402,F401

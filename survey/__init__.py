"""SIPAS: citizen satisfaction surveys with design-based indices. Flask application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        instance_path=str(Path(config.get("INSTANCE_PATH", ROOT / "instance")).resolve())
        if config
        else str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    from survey.config import build_config

    overrides = {k: v for k, v in (config or {}).items() if k != "INSTANCE_PATH"}
    app.config.update(build_config(Path(app.instance_path), overrides))

    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from survey import web

    web.init_extensions(app)
    web.register_blueprints(app)
    web.register_error_handlers(app)
    web.register_template_helpers(app)

    from survey.cli import register_cli

    register_cli(app)
    return app

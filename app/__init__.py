"""The Flask application factory: wiring only, no side effects."""

from __future__ import annotations

from flask import Flask

from .config import Settings


def create_app(settings: Settings | None = None, platform=None) -> Flask:
    """Create the web application; nothing touches the database here."""
    from .platform import build_platform

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.from_mapping(SECRET_KEY=settings.SECRET_KEY, TESTING=settings.TESTING,
                            JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=8 * 1024 * 1024)
    app.json.ensure_ascii = False
    app.extensions["platform"] = platform or build_platform(settings)

    from .api import bp as api_bp
    from .cli import register_cli
    from .web import register_errors

    app.register_blueprint(api_bp)
    register_errors(app)
    register_cli(app)
    return app

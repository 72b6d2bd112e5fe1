"""The Flask application factory: wiring only, no side effects."""

from __future__ import annotations

from flask import Flask

from .config import Settings


def create_app(settings: Settings | None = None, platform=None) -> Flask:
    """Create the web application; nothing touches the database here."""
    from .services.security.keys import secret_key
    from .wiring import build_platform

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    from . import hardening
    hardening.install_converters(app)  # before any route: bounded <int:…>, careful JSON (security)
    app.config.from_mapping(SECRET_KEY=secret_key(settings),  # never a published default (security)
                            TESTING=settings.TESTING,
                            JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=8 * 1024 * 1024)
    app.json.ensure_ascii = False
    app.extensions["platform"] = platform or build_platform(settings)

    from flask_wtf.csrf import CSRFProtect

    from . import auth
    from .api import bp as api_bp
    from .auth_views import bp as auth_bp
    from .cli import register_cli
    from .web import register_errors

    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=not settings.TESTING and settings.SECURE_COOKIES,
                      WTF_CSRF_TIME_LIMIT=None,
                      PERMANENT_SESSION_LIFETIME=settings.SESSION_MAX_HOURS * 3600)
    csrf = CSRFProtect(app)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    auth.init_app(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(auth_bp)
    from .admin import bp as admin_bp
    app.register_blueprint(admin_bp)  # analysts: modeler, versions, migrations
    from .pages import register_pages
    register_pages(app, settings)  # portal, officer, public, language
    register_errors(app)
    hardening.init_app(app, settings)  # security headers, NUL refused, ProxyFix behind trusted proxies
    register_cli(app)
    return app

"""Process entry: settings, logging, Sentry, then the app (servicekit.server.serve)."""

from api.app import create_app
from api.settings import ApiSettings
from servicekit.server import serve

if __name__ == "__main__":
    serve(ApiSettings, create_app)

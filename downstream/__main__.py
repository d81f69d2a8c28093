"""Process entry: settings, logging, Sentry, then the app (servicekit.server.serve)."""

from downstream.app import create_app
from downstream.settings import DownstreamSettings
from servicekit.server import serve

if __name__ == "__main__":
    serve(DownstreamSettings, create_app)

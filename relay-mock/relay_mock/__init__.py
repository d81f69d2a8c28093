"""relay-mock: a stand-in for Sentry's ingest (Relay) that stores every envelope durably
and shows what arrived. Shares no code with the services it observes."""

__version__ = "0.1.0"

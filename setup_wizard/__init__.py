"""Korean setup wizard for the real-estate chat backend's PostgreSQL database."""

__version__ = "0.1.0"

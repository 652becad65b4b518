"""Settings and the backend's .env: reading, precedence, writing, backups, permissions, the backend's own
reading of DATABASE_URL and its settings, finding the project's backend/ folder."""

"""Connection settings and the backend's .env file: reading, judging, writing."""

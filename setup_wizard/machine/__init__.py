"""This computer: the OS seam, finding PostgreSQL, and starting or creating a local server."""

"""The machine around the server: finding PostgreSQL installations, services, login help, the guided
password reset, the per-user server (route 2), the Windows install (route 1) and the Windows seams."""

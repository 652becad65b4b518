"""Every sentence a person reads, in Korean (합니다체 throughout). Code, SQL and commands stay as is.

A package of data, one module per section; this file imports none of them, so a module imports only the sections it
reads (`from setup_wizard.messages import login as msg`). Known failures form a catalogue: stable code -> title,
one-line cause, numbered steps, exit code. Each section declares the entries of its topic (PROBLEMS);
setup_wizard/problems.py assembles them (catalogue()) and is the one door that reads and draws them. A new sentence
goes into the module of its topic; a new topic is a new module, listed below (and, if it declares PROBLEMS, merged
in problems.catalogue()).

Sections, in the order a person meets them (module: topic):
 1. catalogue:        Known failures: what a catalogue entry holds
 2. cli:              Command line: help, usage errors, interruptions
 3. settings:         Settings and their sources (--dsn, environment, .env, defaults)
 4. envfiles:         .env files: reading, saving, keeping the password private
 5. install:          Finding PostgreSQL on this machine: installations, psql and the PATH, the port
 6. server:           The server: its service, or a new local development server (cluster)
 7. login:            Connecting and logging in (with login help and the password reset)
 8. migrations:       The plan and applying migrations (and --recreate)
 9. schema:           Schema: contract, drift and repair
10. backend_needs:    What else the backend needs: dev user 1, LangGraph checkpoint tables, the models' other tables
11. backend_settings: The backend's view of settings (backend/.env, DATABASE_URL) and the fixes that lose nothing
12. locks:            Locks, time limits, privileges and read-only servers
13. finish:           The end of a run: final checklist, verification, summary and next steps
14. check:            The check command: its other items and the shareable report (--report)
15. screens:          The interactive screens (the wizard's own words; each step's text sits with its topic above)
16. terminals:        Windows terminals and shells: Git Bash (mintty)
"""

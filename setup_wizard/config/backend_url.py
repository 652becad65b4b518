"""DATABASE_URL as the backend's SQLAlchemy 2.0.23 turns it into psycopg's connection parameters.

The backend calls `create_engine(DATABASE_URL)`: `make_url` parses the string with one regular expression
(engine/url.py `_parse_url`), then the psycopg dialect's `create_connect_args`
(dialects/postgresql/_psycopg_common.py, with `_split_multihost_from_url` from postgresql/base.py) builds
the keyword arguments psycopg.connect receives, and psycopg hands them to libpq. SQLAlchemy is not a
dependency of the wizard (and its reading changes between versions), so the steps that decide where the
backend connects are ported here line for line from 2.0.23, with what they imply:

- nothing is stripped: a leading space is "Could not parse", a trailing one stays in the database name;
- user and password are percent-decoded, the host and the database name are not (`%68ost` stays so);
- spaces and most reserved characters are taken as they are (`pass word`, `test database`);
- `host:` (an empty port) and a port that is not a number raise at create_engine; port 0 is dropped;
- every query parameter goes to libpq as written (client_encoding too); `host=` given several times or
  as `a,b,c` is a multi-host list, `host=db:5678` carries its port, `port=1,2,3` pairs with the hosts.

`engine_params` raises `EngineError` where create_engine raises, with the code the wizard reports;
`libpq_refusal` says whether libpq would refuse those parameters before connecting anywhere (the
backend then starts but no connection ever succeeds). The tests compare both, case by case, with the
backend's own libraries (tests/config/test_backend_url.py).
"""

# The URL and connect-argument steps below are ported from SQLAlchemy 2.0.23, under its licence:
#
# Copyright 2005-2023 SQLAlchemy authors and contributors <see AUTHORS file>.
#
# Permission is hereby granted, free of charge, to any person obtaining a copy of
# this software and associated documentation files (the "Software"), to deal in
# the Software without restriction, including without limitation the rights to
# use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
# of the Software, and to permit persons to whom the Software is furnished to do
# so, subject to the following conditions:
#
# The above copyright notice and this permission notice shall be included in all
# copies or substantial portions of the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
# IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
# FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
# AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
# LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
# OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
# SOFTWARE.

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote

from setup_wizard.config.backend_verdict import BACKEND_SCHEME, URL_INVALID, URL_SCHEME
from setup_wizard.record import record

# Patterns, compiled by `re` on first use (its cache): most runs never parse a backend URL (issue 20, "Speed").
_URL = r"""(?x)
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        """
_HOST_PORT = r"^([a-zA-Z0-9\-\.]*)(?:\:(\d*))?$"
# URL attribute -> psycopg keyword, in translate_connect_args' order.
_FIELDS = {"host": "host", "database": "dbname", "username": "user", "password": "password", "port": "port"}

Query = dict[str, "str | list[str]"]


class EngineError(Exception):
    """create_engine raises: `code` is the wizard's (URL_INVALID or URL_SCHEME), `reason` a short tag."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@record
class EngineParams:
    scheme: str  # the driver name as written (postgresql+psycopg)
    params: dict[str, str]  # psycopg.connect's keyword arguments, each as make_conninfo writes it


def _query(text: str | None) -> Query | None:
    if text is None:
        return None
    query: Query = {}
    for key, value in parse_qsl(text):
        if key in query:
            old = query[key]
            query[key] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            query[key] = value
    return query


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise EngineError(URL_INVALID, "port") from None


def _parse(url: str) -> tuple[str, dict[str, object], Query]:
    """make_url: (driver name, URL attributes, query); EngineError where it raises."""
    match = re.match(_URL, url)
    if match is None:
        raise EngineError(URL_INVALID, "unparsable")
    parts = match.groupdict()
    attrs: dict[str, object] = {
        "username": unquote(parts["username"]) if parts["username"] is not None else None,
        "password": unquote(parts["password"]) if parts["password"] is not None else None,
        "host": parts["ipv4host"] or parts["ipv6host"],
        "database": parts["database"],
    }
    port = parts["port"]
    # _parse_url converts a non-empty port; URL.create's int() then fails on an empty one ("host:/").
    attrs["port"] = _int(port) if port is not None else None
    query = _query(parts["query"]) or {}
    if "plugin" in query:
        raise EngineError(URL_INVALID, "plugin")  # CreateEnginePlugin lookup: none is installed
    return parts["name"], attrs, query


def _split_token(token: str) -> list[str | None]:
    return list(token.split(":")) if ":" in token else [token, None]


def _multihost(query: Query) -> tuple[tuple[str, ...] | None, tuple[int | None, ...] | None]:
    """PGDialect._split_multihost_from_url."""
    hosts: tuple[str, ...] | None = None
    ports_str: tuple[str | None, ...] | list[str] | None = None
    integrated = False
    if "host" in query:
        value = query["host"]
        if isinstance(value, list):
            integrated = True
            pairs = [_split_token(token) for token in value]
            try:
                hosts_any, ports_any = zip(*pairs, strict=False)
            except ValueError:  # a token with two colons ("h:1:2") and only that one
                raise EngineError(URL_INVALID, "host-list") from None
            hosts = tuple(str(h) for h in hosts_any)
            ports_str = tuple(ports_any)
        else:
            hosts = tuple(value.split(","))
            if "port" not in query and len(hosts) == 1 and ":" in hosts[0]:
                found = re.match(_HOST_PORT, hosts[0])
                if found:
                    integrated = True
                    hosts = (found.group(1),)
                    ports_str = (found.group(2),) if found.group(2) else (None,)
    if "port" in query:
        if integrated:
            raise EngineError(URL_INVALID, "mixed-multihost")
        port_value = query["port"]
        ports_str = port_value if isinstance(port_value, list) else tuple(port_value.split(","))
    ports: tuple[int | None, ...] | None = None
    if ports_str:
        try:
            ports = tuple(int(x) if x else None for x in ports_str)
        except ValueError:
            raise EngineError(URL_INVALID, "port") from None
    if ports and ((not hosts and len(ports) > 1) or (
            hosts and len(hosts) != len(ports) and (len(hosts) > 1 or len(ports) > 1))):
        raise EngineError(URL_INVALID, "host-port-count")
    if hosts is not None and ports is None:
        ports = tuple(None for _ in hosts)
    return hosts, ports


def _scheme(name: str) -> None:
    """The dialect lookup: only postgresql+psycopg (and +psycopg_async, which cannot serve the
    synchronous engine) load; any other name fails, as a module or a dialect that is not there."""
    if name != BACKEND_SCHEME:
        raise EngineError(URL_SCHEME, name)


def engine_params(url: str, check_scheme: bool = True) -> EngineParams:
    """What create_engine(url) hands psycopg.connect, or EngineError as create_engine raises.

    check_scheme=False: the parameters as they would be with the right driver name (what the wizard
    connects with while it offers to fix the name)."""
    name, attrs, query = _parse(url)
    if check_scheme and name != BACKEND_SCHEME and name != BACKEND_SCHEME + "_async":
        _scheme(name)
    multihosts, multiports = _multihost(query)
    opts: dict[str, object] = {}
    for attr, key in _FIELDS.items():
        value = attrs[attr]
        if value:  # translate_connect_args drops unset and false values: "", port 0
            opts[key] = value
    opts.update(query)
    if multihosts:
        opts["host"] = ",".join(multihosts)
        comma_ports = ",".join(str(p) if p else "" for p in multiports or ())
        if comma_ports:
            opts["port"] = comma_ports
    if check_scheme and name != BACKEND_SCHEME:
        _scheme(name)  # psycopg_async: the engines are made, the synchronous one never connects
    return EngineParams(name, {key: _as_psycopg(value) for key, value in opts.items() if value is not None})


def _as_psycopg(value: object) -> str:
    """make_conninfo writes str(value); a parameter given twice reaches libpq as a tuple's repr."""
    if isinstance(value, list):
        return str(tuple(value))
    return str(value)


_PROBE_HOST = "/nonexistent-setup-wizard"  # a socket folder that does not exist: every attempt fails at once


def libpq_refusal(params: Mapping[str, str], environ: Mapping[str, str]) -> str | None:
    """What libpq itself refuses in these parameters, whatever the network does (None: nothing).

    libpq judges a conninfo in stages: its parser (unknown option, bad quoting), connectOptions2 (host and
    port counts, sslmode and the other enumerated values) and, as it tries each host, that host's port.
    It is asked directly: the same parameters with every host replaced by a socket folder that does not
    exist (PGHOSTADDR and hostaddr left out), so that it walks through all of them without touching the
    network, with `environ`'s PG* variables. What it says about anything but those sockets is a refusal.
    """
    from psycopg import ProgrammingError, pq
    from psycopg.conninfo import make_conninfo

    from setup_wizard.config.libpq_env import libpq_environment, libpq_variables

    hosts = params["host"] if "host" in params else environ.get("PGHOST", "")
    probe = {key: value for key, value in params.items() if key != "hostaddr"}
    probe["host"] = ",".join(_PROBE_HOST for _ in hosts.split(","))
    try:
        conninfo = make_conninfo("", **probe)
    except ProgrammingError:
        return "conninfo"
    variables = {key: value for key, value in libpq_variables(environ).items() if key != "PGHOSTADDR"}
    with libpq_environment(variables):
        pgconn = pq.PGconn.connect_start(conninfo.encode())
        try:
            message = pgconn.error_message.decode("utf-8", "replace")
        finally:
            pgconn.finish()
    refused = [line for line in message.splitlines()
               if line.strip() and not line[0].isspace() and _PROBE_HOST not in line]
    return "; ".join(refused) or None

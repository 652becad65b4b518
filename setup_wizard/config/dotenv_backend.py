""".env text exactly as the backend's python-dotenv 1.0.1 reads it: its parser, and load_dotenv's `${VAR}`.

The wizard depends on a newer python-dotenv (>=1.2.3), whose parser differs from the backend's 1.0.1 in
ways that change values: 1.2 strips a UTF-8 BOM, ends a quoted value at `\\"` where 1.0.1 reads on
(1.0.1: `"a\\"b"` continues past the second quote), and reads `KEY= # note` as empty where 1.0.1 keeps
`# note`. The backend's reading wins, so `parse_stream` below is 1.0.1's parser (dotenv/parser.py,
BSD-3-Clause, (c) 2014 Saurabh Kumar), unchanged but for types; only the values are checked against the
backend's own library (tests/config/test_backend_url.py).

Interpolation is load_dotenv's (override=False, what the backend calls): `${NAME}` and `${NAME:-default}`
take the process environment's NAME first, then an earlier value of the file, then the default, else "".
python-dotenv's own resolve_variables copies the environment and every earlier value for each line (the
cost grows with the square of the file); `interpolate` gives the same values in one pass, against the
environment it is handed rather than the wizard's own process. `parse_env_text` parses a text once per
run (a small cache): the backend's view and the wizard's settings read the same bindings.
"""

# parse_stream and its helpers below come from python-dotenv 1.0.1 (dotenv/parser.py), under its licence:
#
# Copyright (c) 2014, Saurabh Kumar (python-dotenv), 2013, Ted Tieken (django-dotenv-rw),
# 2013, Jacob Kaplan-Moss (django-dotenv)
#
# Redistribution and use in source and binary forms, with or without modification,
# are permitted provided that the following conditions are met:
#
# - Redistributions of source code must retain the above copyright notice,
#   this list of conditions and the following disclaimer.
#
# - Redistributions in binary form must reproduce the above copyright notice,
#   this list of conditions and the following disclaimer in the documentation
#   and/or other materials provided with the distribution.
#
# - Neither the name of django-dotenv nor the names of its contributors
#   may be used to endorse or promote products derived from this software
#   without specific prior written permission.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
# "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
# LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
# A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER OR
# CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
# EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO,
# PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR
# PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF
# LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
# NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
# SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from re import Match, Pattern
from typing import NamedTuple


def _regex(string: str, extra_flags: int = 0) -> Pattern[str]:
    return re.compile(string, re.UNICODE | extra_flags)


_multiline_whitespace = _regex(r"\s*", extra_flags=re.MULTILINE)
_whitespace = _regex(r"[^\S\r\n]*")
_export = _regex(r"(?:export[^\S\r\n]+)?")
_single_quoted_key = _regex(r"'([^']+)'")
_unquoted_key = _regex(r"([^=\#\s]+)")
_equal_sign = _regex(r"(=[^\S\r\n]*)")
_single_quoted_value = _regex(r"'((?:\\'|[^'])*)'")
_double_quoted_value = _regex(r'"((?:\\"|[^"])*)"')
_unquoted_value = _regex(r"([^\r\n]*)")
_comment = _regex(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_end_of_line = _regex(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_rest_of_line = _regex(r"[^\r\n]*(?:\r|\n|\r\n)?")
_double_quote_escapes = _regex(r"\\[\\'\"abfnrtv]")
_single_quote_escapes = _regex(r"\\[\\']")
_inline_comment = _regex(r"\s+#.*")
# The common statement `KEY=value` (no export, no quotes, no leading space, a value that starts with
# neither a space nor a quote) read in one match, with exactly the result the steps above give it: the
# key and the value stop where those regexes stop, and nothing can backtrack into another reading.
_simple_binding = _regex(r"([^=\#\s'][^=\#\s]*)[^\S\r\n]*=[^\S\r\n]*([^\s'\"][^\r\n]*)(?:\r\n|\n|\r|$)")
_posix_variable = re.compile(r"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")


class Binding(NamedTuple):
    key: str | None
    value: str | None  # None: a key without `=`
    line: int  # 1-based line where the statement starts
    error: bool  # a statement python-dotenv cannot parse (it skips the rest of that line)


class _Error(Exception):
    pass


class _Reader:
    def __init__(self, string: str) -> None:
        self.string = string
        self.chars = 0
        self.line = 1
        self.mark_chars = 0
        self.mark_line = 1

    def has_next(self) -> bool:
        return self.chars < len(self.string)

    def set_mark(self) -> None:
        self.mark_chars, self.mark_line = self.chars, self.line

    def peek(self, count: int) -> str:
        return self.string[self.chars : self.chars + count]

    def read_regex(self, regex: Pattern[str]) -> tuple[str, ...]:
        match = regex.match(self.string, self.chars)
        if match is None:
            raise _Error("read_regex: Pattern not found")
        start, end = match.span()
        if end > start:  # newlines as 1.0.1's Position.advance counts them (\r\n, \n, \r), in C
            text = self.string
            self.line += text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
        self.chars = end
        return match.groups()


def _decode_escapes(regex: Pattern[str], string: str) -> str:
    def decode_match(match: Match[str]) -> str:
        return codecs.decode(match.group(0), "unicode-escape")

    return regex.sub(decode_match, string)


def _parse_key(reader: _Reader) -> str | None:
    char = reader.peek(1)
    if char == "#":
        return None
    (key,) = reader.read_regex(_single_quoted_key if char == "'" else _unquoted_key)
    return key


def _parse_value(reader: _Reader) -> str:
    char = reader.peek(1)
    if char == "'":
        (value,) = reader.read_regex(_single_quoted_value)
        return _decode_escapes(_single_quote_escapes, value)
    if char == '"':
        (value,) = reader.read_regex(_double_quoted_value)
        return _decode_escapes(_double_quote_escapes, value)
    if char in ("", "\n", "\r"):
        return ""
    (part,) = reader.read_regex(_unquoted_value)
    return _inline_comment.sub("", part).rstrip()


def _parse_simple(reader: _Reader) -> Binding | None:
    string, start = reader.string, reader.chars
    match = _simple_binding.match(string, start)
    if match is None or string.startswith("export", start):
        return None
    key, part = match.groups()
    line = reader.line
    reader.chars = match.end()
    if match.end() > match.start(2) + len(part):  # the newline
        reader.line += 1
    value = (_inline_comment.sub("", part) if "#" in part else part).rstrip()
    return Binding(key, value, line, False)


def _parse_binding(reader: _Reader) -> Binding:
    simple = _parse_simple(reader)
    if simple is not None:
        return simple
    reader.set_mark()
    try:
        reader.read_regex(_multiline_whitespace)
        if not reader.has_next():
            return Binding(None, None, reader.mark_line, False)
        reader.read_regex(_export)
        key = _parse_key(reader)
        reader.read_regex(_whitespace)
        value: str | None = None
        if reader.peek(1) == "=":
            reader.read_regex(_equal_sign)
            value = _parse_value(reader)
        reader.read_regex(_comment)
        reader.read_regex(_end_of_line)
        return Binding(key, value, reader.mark_line, False)
    except _Error:
        reader.read_regex(_rest_of_line)
        return Binding(None, None, reader.mark_line, True)


def parse_stream(text: str) -> Iterator[Binding]:
    """python-dotenv 1.0.1's parse_stream over a text (newlines as open() in text mode leaves them)."""
    reader = _Reader(text)
    while reader.has_next():
        yield _parse_binding(reader)


@lru_cache(maxsize=8)
def parse_env_text(text: str) -> tuple[Binding, ...]:
    """Every statement of a .env text, parsed once (texts are cached: a run reads the same file twice)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return tuple(parse_stream(normalised))


def interpolate(bindings: tuple[Binding, ...], environ: Mapping[str, str]) -> dict[str, str | None]:
    """load_dotenv(override=False)'s values in file order: `${NAME:-default}` from `environ`, else an
    earlier value, else the default. A key given twice keeps its first place and its last value."""
    values: dict[str, str | None] = {}

    def resolve(match: Match[str]) -> str:
        name = match["name"]
        if name in environ:
            return environ[name]
        if name in values:
            return values[name] or ""
        return match["default"] or ""

    for binding in bindings:
        if binding.key is None:
            continue
        value = binding.value
        if value is not None and "${" in value:
            value = _posix_variable.sub(resolve, value)
        values[binding.key] = value
    return values


def backend_values(text: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The keys and values load_dotenv sets from this text (value-less keys left out)."""
    return {k: v for k, v in interpolate(parse_env_text(text), environ).items() if v is not None}

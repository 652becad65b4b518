"""Removing every password and secret from text that leaves the machine (the report, crash messages).

The settings are only ever shown through `Settings.redacted()`; this is the second line of defence for
everything else: each known secret (the database password, raw and percent-encoded, and the values of
the .env keys that look secret) is replaced, and so is the password part of any URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

from setup_wizard.record import record

MASK = "***"
MIN_LENGTH = 4  # for values found in files; a password given to the wizard is always masked
# Patterns, compiled by `re` on first use (its cache): only text that leaves the machine is scrubbed.
# Keys whose values are secrets: SECRET_KEY, POSTGRES_PASSWORD, OPENAI_API_KEY, GITHUB_TOKEN, ...
SECRET_KEY_PATTERN = r"(?i)PASSWORD|PASSWD|PWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH"
# scheme://user:password@host — the password part, whatever the scheme (postgresql, mongodb, redis ...)
_URL_PASSWORD = r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<password>[^\s@/]*)(?=@)"


def _url_password(value: str) -> str | None:
    match = re.search(_URL_PASSWORD, value)
    return match.group("password") if match and match.group("password") else None


@record
class Scrubber:
    secrets: tuple[str, ...]

    @classmethod
    def collect(cls, passwords: Iterable[str | None], *sources: Mapping[str, str] | None) -> Scrubber:
        """The given passwords, plus every secret-looking value (and URL password) in the sources."""
        found: set[str] = {p for p in passwords if p}
        for source in sources:
            for key, value in (source or {}).items():
                # A flag such as DEBUG_KEY=1 is not a secret, and masking every "1" would ruin the report.
                if len(value) >= MIN_LENGTH and re.search(SECRET_KEY_PATTERN, key):
                    found.add(value)
                password = _url_password(value)
                if password and len(password) >= MIN_LENGTH:
                    found.update((password, unquote(password)))
        variants: set[str] = set()
        for secret in found:
            variants.update((secret, quote(secret, safe=""), quote(secret)))
        # Longest first, so a secret containing another is removed whole.
        return cls(tuple(sorted((v for v in variants if v), key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        text = re.sub(_URL_PASSWORD, lambda m: m.group("head") + (MASK if m.group("password") else ""), text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

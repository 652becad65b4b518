"""What a Windows program wrote in the Korean code page (CP949), read strictly (the Windows tier)."""

from __future__ import annotations

import re


def cp949(raw: bytes) -> str:
    """Strict: a byte that is not CP949 fails the test (the console would show garbage)."""
    text = raw.decode("cp949")
    assert "\ufffd" not in text
    # A Hangul syllable next to '?' is a character the stream could not encode.
    assert not re.search(r"\?[\uac00-\ud7a3]|[\uac00-\ud7a3]\?", text), text
    return text

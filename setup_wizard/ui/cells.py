"""Terminal cells: Hangul takes two. Word wrapping by cells for the text rich does not draw
(argparse's --help, the questions), without importing rich."""

from __future__ import annotations


def cell_width(text: str) -> int:
    """Terminal cells: Hangul and other wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def wrap_cells(text: str, width: int) -> list[str]:
    """Word wrap by terminal cells (argparse's textwrap counts characters, so Korean lines ran past the
    edge); only a word wider than a whole line is cut, and nothing is dropped."""
    width = max(width, 10)
    lines: list[str] = []
    line = ""
    for word in text.split():
        while cell_width(word) > width:  # a long URL or path: folded, never lost
            if line:
                lines.append(line)
                line = ""
            cut = next(n for n in range(len(word), 0, -1) if cell_width(word[:n]) <= width)
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if line and cell_width(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines or [""]


def fit_question(message: str, width: int | None, prefix: int = 2, hint: str = "") -> str:
    """A question wrapped at word boundaries for a terminal `width` cells wide (prompt_toolkit and a plain
    terminal would break it mid-word): `prefix` cells before it ("? "), and `hint` after it on the last
    line, or on a line of its own when it does not fit there (the message then ends with a newline)."""
    if width is None or width <= prefix + 10:
        return message
    lines = [line for paragraph in message.split("\n") for line in wrap_cells(paragraph, width - prefix)]
    if hint and cell_width(lines[-1]) + 1 + cell_width(hint) > width - prefix:
        return "\n".join(lines) + "\n"
    return "\n".join(lines)

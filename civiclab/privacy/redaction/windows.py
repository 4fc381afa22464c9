"""Long texts read in overlapping windows, so that what one analysis sees is bounded.

spaCy refuses a text of more than a million characters (`E088`), and its memory grows with the text;
an event may still hold a 2 MB string (an external system's answer, a pasted document). Such a text
is analysed window by window: each window holds at most `WINDOW` characters, the next one starts
`OVERLAP` characters before the previous one ends, and both edges fall on a space when there is one
near. A value of at most `OVERLAP // 2` characters (an e-mail, a phone, an address, a name) therefore
lies whole inside at least one window, wherever it sits; a window edge that cuts a value only adds a
partial finding, which the whole one from the neighbouring window covers (the surest, then the
longest, finding wins an overlap).
"""

from __future__ import annotations

from collections.abc import Iterator

WINDOW = 20_000
OVERLAP = 1_000


def windows(text: str, size: int = WINDOW, overlap: int = OVERLAP) -> Iterator[tuple[int, int]]:
    """(start, end) of overlapping windows covering `text`; one window when it is at most `size` long."""
    if size <= 2 * overlap:
        raise ValueError("a window must be more than twice as long as the overlap")
    length = len(text)
    start = 0
    while start + size < length:
        end = start + size
        space = _last_space(text, end - overlap // 2, end)
        end = space if space > start else end  # the window stops before the space
        yield start, end
        # The next window starts at least overlap // 2 before this one ends, just after a space if any.
        following = end - overlap
        space = _first_space(text, following, end - overlap // 2)
        start = space + 1 if space >= 0 else following
    yield start, length


def _last_space(text: str, low: int, high: int) -> int:
    return max(text.rfind(" ", low, high), text.rfind("\n", low, high))


def _first_space(text: str, low: int, high: int) -> int:
    found = [i for i in (text.find(" ", low, high), text.find("\n", low, high)) if i >= 0]
    return min(found) if found else -1

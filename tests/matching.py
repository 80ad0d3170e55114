"""Finding a piece of a page or a message in a test, failing clearly where it is missing."""

import re


def search(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """The first match of ``pattern`` in ``text``; the test fails where there is none."""
    found = re.search(pattern, text, flags)
    assert found is not None, f"nothing in the text matches {pattern!r}"
    return found

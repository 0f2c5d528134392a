"""One error type for expected failures: it names the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path


class XperienceError(Exception):
    """An expected failure caused by the user's input (bad file, bad key, bad shape, bad config).

    Entry points print ``str(err)`` without a traceback and exit with status 2.
    """

    def __init__(self, message: str, *, file: str | Path | None = None, key: str | None = None,
                 expected: str | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.key = key
        self.expected = expected
        parts = []
        if self.file:
            parts.append(f"file {self.file}")
        if key:
            parts.append(f"key '{key}'")
        where = f" [{', '.join(parts)}]" if parts else ""
        tail = f" (expected {expected})" if expected else ""
        super().__init__(f"{message}{where}{tail}")

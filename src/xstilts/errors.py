"""User-facing errors: one clear line, exit status 2, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment that the user can fix.

    The CLI prints ``str(error)`` as one line and exits with status 2.
    """

    exit_code = 2

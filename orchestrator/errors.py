"""Errors that are the user's to fix: the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """A mistake the user can fix (bad config, missing backend, bad flag).

    The message is one line that names the file, the field, the value and what to do.
    """


class InfraError(Exception):
    """A server or network fault: never scored against the model."""

"""The one error a command reports as a single line and exit status 2."""


class CommandError(Exception):
    """Bad input to a command: its message is the whole story."""

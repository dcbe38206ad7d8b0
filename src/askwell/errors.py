"""Errors a user can act on. The CLI prints their message in one red line, no traceback."""


class AskwellError(Exception):
    """Base for every error whose message tells the user what to do."""

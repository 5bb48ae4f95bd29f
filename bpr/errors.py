"""The one exception type for bad user input (files, names, numbers, overrides)."""


class BprInputError(ValueError):
    """Bad input. The message names the offending field or name; front ends print it and exit 2."""

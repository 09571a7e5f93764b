"""The one error of the FOCUS core about its inputs: an option it cannot use (the CLI words it as a flag)."""

from __future__ import annotations


class OptionError(ValueError):
    """``option`` (an :class:`~.options.ExportOptions` field, or ``period``) cannot take ``value``."""

    def __init__(self, option: str, value: object, problem: str) -> None:
        super().__init__(f"{option} {value!r}: {problem}")
        self.option = option
        self.value = value
        self.problem = problem

"""The one error type every catalog loader raises.

A `CatalogError` says where (file, toolkit, tool, bundle), what (reason) and how to fix it,
so a bad tool definition is fixed at its source instead of being dropped silently.
"""

from __future__ import annotations

from typing import Any

TOOL_FIX = "Fix the definition or remove the tool from the file."
FILE_FIX = "Fix the file."


class CatalogError(ValueError):
    """A tool-definition or bundle file that cannot be loaded as written.

    Attributes are `None` where unknown (e.g. `tool` for an unparseable file). The message is
    `"<file>: toolkit '<t>', tool '<n>': <reason>. <fix>"`, leaving out unknown parts.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        toolkit: str | None = None,
        tool: str | None = None,
        bundle: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.toolkit = toolkit
        self.tool = tool
        self.bundle = bundle
        if fix is None:
            fix = TOOL_FIX if tool is not None else FILE_FIX
        self.fix = fix
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.toolkit is not None:
            where.append(f"toolkit {self.toolkit!r}")
        if self.bundle is not None:
            where.append(f"bundle {self.bundle!r}")
        if self.tool is not None:
            where.append(f"tool {self.tool!r}")
        prefix = ""
        if self.file is not None:
            prefix = f"{self.file}: "
        if where:
            prefix += ", ".join(where) + ": "
        reason = self.reason.rstrip()
        if not reason.endswith((".", "?", "!")):
            reason += "."
        return f"{prefix}{reason} {self.fix}".rstrip()

    def with_context(self, **context: Any) -> CatalogError:
        """A copy with the given attributes filled in where this error left them unknown."""
        fields = {
            "file": self.file,
            "toolkit": self.toolkit,
            "tool": self.tool,
            "bundle": self.bundle,
            "fix": self.fix,
        }
        for key, value in context.items():
            if key not in fields:
                raise TypeError(f"unknown CatalogError attribute {key!r}")
            if fields[key] is None:
                fields[key] = value
        return CatalogError(self.reason, **fields)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive the default exception pickling.
        return (
            _rebuild,
            (self.reason, self.file, self.toolkit, self.tool, self.bundle, self.fix),
        )


def _rebuild(
    reason: str,
    file: str | None,
    toolkit: str | None,
    tool: str | None,
    bundle: str | None,
    fix: str | None,
) -> CatalogError:
    return CatalogError(reason, file=file, toolkit=toolkit, tool=tool, bundle=bundle, fix=fix)

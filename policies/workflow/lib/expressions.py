"""`${{ }}` expressions as the Python workflow rules read them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_BRACKET_NAME = re.compile(r"""\[\s*(['"])([A-Za-z_][\w-]*)\1\s*\]""")


_BOOLEAN_CALL = re.compile(r"^!?(?:contains|startswith|endswith)\([^()]*\)$", re.IGNORECASE)


class Expression(NamedTuple):
    text: str  # the whole `${{ ... }}`, as written: what a finding points at
    body: str  # normalised: no whitespace, `['x']` read as `.x`

    @property
    def is_boolean(self) -> bool:
        """Yields only true/false (one comparison or contains()-like test): no text gets out.

        `a == b && c || d` can yield `d`, so `&&`/`||` never count as boolean.
        """
        body = self.body
        if "&&" in body or "||" in body:
            return False
        return "==" in body or "!=" in body or bool(_BOOLEAN_CALL.match(body))


def expressions(text: str) -> Iterator[Expression]:
    """Every `${{ }}` in `text`, spaces and line breaks inside it included."""
    for match in _EXPRESSION.finditer(text):
        body = _BRACKET_NAME.sub(r".\2", match.group(1))
        yield Expression(match.group(0), "".join(body.split()))

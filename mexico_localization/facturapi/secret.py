"""A secret key that cannot leak through repr, str, f-strings, logs or tracebacks.

Frappe's Error Log formats tracebacks with the local variables of every frame, so a plain string
holding the key would be printed wherever it is in scope. A `Secret` prints as a mask; the key
itself is read only by `reveal()`, which the client calls inside its auth object at send time.
"""

from __future__ import annotations

MASK = "********"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        object.__setattr__(self, "_value", value.strip())

    def reveal(self) -> str:
        """The key itself; call only where it goes on the wire."""
        return self._value

    @property
    def environment(self) -> str:
        """Test or Live, as FacturaAPI's key prefix says; "Unknown" for anything else."""
        if self._value.startswith("sk_live_"):
            return "Live"
        if self._value.startswith("sk_test_"):
            return "Test"
        if self._value.startswith("sk_user_"):
            return "User"
        return "Unknown"

    def redact(self, text: str) -> str:
        """`text` with the key masked, also where a library quoted it escaped (str or bytes repr).

        Error messages from HTTP libraries may quote header values, e.g. http.client's
        "Invalid header value b'Bearer …'".
        """
        if not self._value:
            return text
        forms = {self._value, repr(self._value)[1:-1], repr(self._value.encode("utf-8"))[2:-1]}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce__(self):
        # Pickling would write the key into RQ's job payload in Redis: refuse.
        raise TypeError("a Secret is never pickled; pass settings names to jobs, not keys")

"""Text the API takes: every string of every request body is storable, free text is masked.

Python decodes JSON's `"\\ud800"` into a string no UTF-8 file or SQLite database can hold, and
a NUL is kept by SQLite but refused by PostgreSQL at central, so one such event in the
append-only log would never sync. The refusal belongs to the request models themselves, not to
a check of the content type in front of them: whatever the body's declared type, whatever the
route, a request model built from a string with either is a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from station.people.phone import mask_in_text


def unstorable(value: Any, where: str = "body") -> str | None:
    """What in a decoded value (keys included) no store downstream can hold, and where: half
    of a UTF-16 pair, or a NUL character. None if nothing. The answer names the place by clean
    keys only, since it goes back to the client as UTF-8."""
    if isinstance(value, str):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return (
                f"{where}: text holds a lone UTF-16 surrogate (\\ud800-\\udfff), not a "
                "unicode character: send the text as UTF-8"
            )
        if "\x00" in value:
            return (
                f"{where}: text holds a NUL character (\\u0000), which the central office's "
                "database cannot store: remove it"
            )
        return None
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = list(enumerate(value))
    else:
        return None
    for key, item in pairs:
        clean = key if unstorable(key) is None else "?"
        found = unstorable(key, f"{where} (a key)") or unstorable(item, f"{where}.{clean}")
        if found:
            return found
    return None


class Strict(BaseModel):
    """Base of every request body: unknown keys are errors, and no string anywhere in it
    (keys, list items, nested values) holds a NUL or a lone surrogate."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        problem = unstorable(data, cls.__name__)
        if problem:
            raise ValueError(problem)
        return data


FreeText = Annotated[str, AfterValidator(mask_in_text)]
"""Free text a person types (reasons, notes, hand-in places and descriptions): stored, shown,
streamed and synced, so any mobile number in it is masked before it is kept."""

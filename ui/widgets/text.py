"""Widgets whose words come from the translation catalogue.

They hold a catalogue key (and its fields) instead of text, so flipping the language only has
to ask each of them to look their key up again; nothing on screen is rebuilt or forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from textual.content import Content
from textual.dom import DOMNode
from textual.widgets import Button, Static

from ui.i18n import Translator


class _HasTranslator(Protocol):
    i18n: Translator


def translator(node: DOMNode) -> Translator:
    """The app's Translator, for any widget or screen mounted in a StationApp."""
    app: Any = node.app
    i18n = getattr(app, "i18n", None)
    if not isinstance(i18n, Translator):
        raise TypeError("ui widgets need an app with an `i18n` Translator")
    return i18n


@runtime_checkable
class Translatable(Protocol):
    def retranslate(self) -> None: ...


def plain(text: str) -> Content:
    """Text that came as data (a tool name, a place): shown as is, never parsed as markup."""
    return Content(text)


class _Keyed:
    """A catalogue key and its fields, looked up again whenever the language changes."""

    key: str
    params: dict[str, object]
    is_mounted: bool
    _apply: Callable[[Content], None]
    """How the widget shows its text: a label updates, a button relabels."""

    def _keep(self, key: str, params: Mapping[str, object] | None) -> None:
        self.key = key
        self.params = dict(params or {})

    def on_mount(self) -> None:
        self.retranslate()

    def show(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        if self.is_mounted:
            self.retranslate()

    def retranslate(self) -> None:
        self._apply(plain(translator(self).t(self.key, **self.params)))  # type: ignore[arg-type]


class TLabel(_Keyed, Static):
    """A label showing one catalogue entry."""

    def __init__(
        self,
        key: str,
        params: Mapping[str, object] | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("", markup=False, id=id, classes=classes)
        self._keep(key, params)

    def _apply(self, text: Content) -> None:
        self.update(text)


class TButton(_Keyed, Button):
    """A button labelled by one catalogue entry."""

    def __init__(
        self,
        key: str,
        params: Mapping[str, object] | None = None,
        *,
        variant: str = "default",
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(" ", variant=variant, id=id, classes=classes, disabled=disabled)  # type: ignore[arg-type]
        self._keep(key, params)

    def _apply(self, text: Content) -> None:
        self.label = text


Labeller = Callable[[Translator], str]


class DataButton(Button):
    """A button about one piece of data (a tool, a locker, an alarm) with a computed label.

    `labeller` builds the label from the Translator, so it follows the language toggle like
    any catalogue text; `value` is what the screen gets back when it is pressed.
    """

    def __init__(
        self,
        labeller: Labeller,
        value: Any = None,
        *,
        variant: str = "default",
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(" ", variant=variant, id=id, classes=classes, disabled=disabled)  # type: ignore[arg-type]
        self.labeller = labeller
        self.value = value

    def on_mount(self) -> None:
        self.retranslate()

    def relabel(self, labeller: Labeller) -> None:
        self.labeller = labeller
        if self.is_mounted:
            self.retranslate()

    def retranslate(self) -> None:
        self.label = plain(self.labeller(translator(self)))


class DataLabel(Static):
    """A label whose text is computed from data and the Translator (a receipt line)."""

    def __init__(
        self, labeller: Labeller, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__("", markup=False, id=id, classes=classes)
        self.labeller = labeller

    def on_mount(self) -> None:
        self.retranslate()

    def relabel(self, labeller: Labeller) -> None:
        self.labeller = labeller
        if self.is_mounted:
            self.retranslate()

    def retranslate(self) -> None:
        self.update(plain(self.labeller(translator(self))))

"""Lost and found: hand an item in, look for one and claim it (an approved claim is picked
up with its code under Home's pickup tile, like a deposit).

Handing in needs no identity: category, colour, where it was found, an optional phone for the
owner's thanks, then a free lost-and-found locker opens. Browsing shows public fields only.
A claim asks for a member's card (where `people.card_alone_for` lets a card alone claim) or a
phone number: the item picked from the list says what was lost, and staff verify ownership by
calling back (the station never decides it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from ui.i18n import Translator, mask_phone
from ui.screens.base import KioskScreen
from ui.screens.common import Choice, ChoiceScreen, KeypadScreen
from ui.screens.door import FlowScreen
from ui.screens.errors import ErrorScreen, refusal
from ui.screens.identify import WaitsForCard
from ui.widgets.text import DataLabel, Labeller, TButton, TLabel

COLOURS = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "brown",
    "pink",
    "other",
)


def menu_choice(name: str, title: str, hint: str) -> Choice:
    return Choice(lambda i18n: f"{i18n.t(title)}\n{i18n.t(hint)}", name, name)


class MenuScreen(ChoiceScreen):
    """A few large choices fixed in the catalogue (no data to wait for)."""

    ITEMS: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    async def on_mount(self) -> None:
        await self.show_choices([menu_choice(*item) for item in self.ITEMS])


class LostMenuScreen(MenuScreen):
    TITLE_KEY = "home.lost"
    PROMPT_KEY = "lost.menu"
    COLUMNS = 2
    PAGE_SIZE = 2
    ITEMS = (
        ("handin", "lost.handin", "lost.handin.hint"),
        ("find", "lost.find", "lost.find.hint"),
    )

    def chosen(self, value: Any) -> None:
        if value == "handin":
            self.app.push_screen(CategoryScreen(HandIn()))
        else:
            self.app.push_screen(FindCategoryScreen())


# --- hand in --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandIn:
    """What the finder has told so far; each step adds one answer."""

    category: dict[str, Any] | None = None
    colour: str | None = None
    place: Any = None
    place_label: Labeller | None = None
    finder_phone: str | None = None

    def body(self) -> dict[str, Any]:
        assert self.category is not None
        return {
            "category": self.category["code"],
            "colour": self.colour or "other",
            "place": self.place,
            "description": "",
            "finder_phone": self.finder_phone,
        }


def category_label(category: dict[str, Any]) -> Labeller:
    return lambda i18n: i18n.pick(category.get("zh"), category.get("en"))


def place_of(place: Any) -> tuple[Any, Labeller]:
    """A preset place as the daemon lists it: a text, or {code, zh, en}."""
    if isinstance(place, dict):
        value = place.get("code") or place.get("zh") or place.get("en")
        return value, lambda i18n: i18n.pick(place.get("zh"), place.get("en"))
    return place, lambda i18n: str(place)


class CategoryScreen(ChoiceScreen):
    TITLE_KEY = "lost.handin"
    PROMPT_KEY = "lost.category"
    COLUMNS = 4
    PAGE_SIZE = 8

    def __init__(self, draft: HandIn) -> None:
        super().__init__()
        self.draft = draft

    def on_mount(self) -> None:
        self.call(self.kiosk.client.found_options, done=self._loaded)

    async def _loaded(self, options: dict[str, Any]) -> None:
        self.options = options
        await self.show_choices(
            [
                Choice(category_label(c), c, str(c.get("code")))
                for c in options.get("categories") or []
            ]
        )

    def chosen(self, value: Any) -> None:
        self.app.push_screen(ColourScreen(replace(self.draft, category=value), self.options))


class ColourScreen(ChoiceScreen):
    TITLE_KEY = "lost.handin"
    PROMPT_KEY = "lost.colour"
    COLUMNS = 4
    PAGE_SIZE = 12

    def __init__(self, draft: HandIn, options: dict[str, Any]) -> None:
        super().__init__()
        self.draft = draft
        self.options = options

    async def on_mount(self) -> None:
        # Each button is a swatch of its colour (theme.tcss), for those who read slowly.
        await self.show_choices([Choice(_colour(c), c, c, classes=f"swatch-{c}") for c in COLOURS])

    def chosen(self, value: Any) -> None:
        draft = replace(self.draft, colour=str(value))
        self.app.push_screen(PlaceScreen(draft, self.options))


def _colour(code: str) -> Labeller:
    return lambda i18n: i18n.t(f"colour.{code}")


class PlaceScreen(ChoiceScreen):
    TITLE_KEY = "lost.handin"
    PROMPT_KEY = "lost.place"
    COLUMNS = 3
    PAGE_SIZE = 9

    def __init__(self, draft: HandIn, options: dict[str, Any]) -> None:
        super().__init__()
        self.draft = draft
        self.options = options

    async def on_mount(self) -> None:
        choices = []
        for i, place in enumerate(self.options.get("places") or []):
            value, label = place_of(place)
            choices.append(Choice(label, (value, label), f"place-{i}"))
        await self.show_choices(choices)

    def chosen(self, value: Any) -> None:
        place, label = value
        draft = replace(self.draft, place=place, place_label=label)
        self.app.push_screen(FinderPhoneScreen(draft))


class FinderPhoneScreen(KeypadScreen):
    TITLE_KEY = "lost.handin"
    PROMPT_KEY = "keypad.finder_phone"
    KIND = "phone"
    GOES_ON = True
    SKIPPABLE = True

    def __init__(self, draft: HandIn) -> None:
        super().__init__()
        self.draft = draft

    def submit(self, value: str) -> None:
        self.app.push_screen(HandInConfirmScreen(replace(self.draft, finder_phone=value)))

    def skip(self) -> None:
        self.app.push_screen(HandInConfirmScreen(replace(self.draft, finder_phone=None)))


class HandInConfirmScreen(KioskScreen):
    TITLE_KEY = "lost.handin"

    def __init__(self, draft: HandIn) -> None:
        super().__init__()
        self.draft = draft

    def body(self) -> ComposeResult:
        d = self.draft
        assert d.category is not None and d.colour is not None
        category, colour = category_label(d.category), _colour(d.colour)
        place = d.place_label or (lambda i18n: "—")
        phone = d.finder_phone
        with Vertical(classes="panel"):
            yield TLabel("lost.check", classes="headline")
            yield DataLabel(
                lambda i18n: i18n.t("lost.summary.category", value=category(i18n)),
                classes="sentence",
            )
            yield DataLabel(
                lambda i18n: i18n.t("lost.summary.colour", value=colour(i18n)), classes="sentence"
            )
            yield DataLabel(
                lambda i18n: i18n.t("lost.summary.place", value=place(i18n)), classes="sentence"
            )
            if phone:
                yield TLabel("lost.summary.phone", {"value": mask_phone(phone)}, classes="sentence")
            else:
                yield TLabel("lost.summary.no_phone", classes="sentence")
            if d.category.get("valuable"):
                yield TLabel("lost.valuable", classes="sentence warn")
        with Horizontal(classes="actions"):
            yield TButton("lost.open", id="confirm", variant="primary", classes="action")

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        event.stop()
        body = self.draft.body()
        category = category_label(self.draft.category or {})
        self.call(
            lambda: self.kiosk.client.hand_in(body),
            done=lambda flow: self.app.switch_screen(FlowScreen(flow, category)),
        )


# --- find and claim -------------------------------------------------------------------------


class FindCategoryScreen(ChoiceScreen):
    TITLE_KEY = "lost.find"
    PROMPT_KEY = "lost.find.category"
    COLUMNS = 4
    PAGE_SIZE = 8

    def on_mount(self) -> None:
        self.call(self.kiosk.client.found_options, done=self._loaded)

    async def _loaded(self, options: dict[str, Any]) -> None:
        every = Choice(lambda i18n: i18n.t("lost.all"), None, "all", variant="primary")
        categories = [
            Choice(category_label(c), c, str(c.get("code")))
            for c in options.get("categories") or []
        ]
        await self.show_choices([every, *categories])

    def chosen(self, value: Any) -> None:
        self.app.push_screen(FoundListScreen(value))


def found_tile(item: dict[str, Any], categories: dict[str, dict[str, Any]]) -> Labeller:
    def label(i18n: Translator) -> str:
        cat = categories.get(str(item.get("category")), {})
        name = i18n.pick(cat.get("zh"), cat.get("en")) or str(item.get("category", ""))
        colour = str(item.get("colour") or "other")
        colour_text = i18n.t(f"colour.{colour}") if colour in COLOURS else colour
        found = item.get("found_at")
        when = i18n.when(float(found)) if isinstance(found, int | float) else ""
        return f"{item.get('number', '')} · {name} · {colour_text}\n{item.get('place', '')} {when}"

    return label


class FoundListScreen(ChoiceScreen):
    TITLE_KEY = "lost.find"
    PROMPT_KEY = "lost.find.pick"
    EMPTY_KEY = "lost.find.none"
    COLUMNS = 2
    PAGE_SIZE = 6

    def __init__(self, category: dict[str, Any] | None) -> None:
        super().__init__()
        self.category = category
        self.categories: dict[str, dict[str, Any]] = {}

    def on_mount(self) -> None:
        code = self.category.get("code") if self.category else None
        client = self.kiosk.client

        async def load() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            return await client.found_options(), await client.found(category=code)

        self.call(load, done=self._loaded)

    async def _loaded(self, data: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        options, items = data
        self.categories = {str(c.get("code")): c for c in options.get("categories") or []}
        items = sorted(items, key=lambda i: -float(i.get("found_at") or 0))
        await self.show_choices(
            [Choice(found_tile(i, self.categories), i, str(i.get("number"))) for i in items]
        )

    def chosen(self, value: Any) -> None:
        self.app.push_screen(FoundItemScreen(value, found_tile(value, self.categories)))


class FoundItemScreen(KioskScreen):
    TITLE_KEY = "lost.find"

    def __init__(self, item: dict[str, Any], summary: Labeller) -> None:
        super().__init__()
        self.item = item
        self.summary = summary

    def body(self) -> ComposeResult:
        description = str(self.item.get("description") or "")
        with Vertical(classes="panel"):
            yield DataLabel(self.summary, id="item-summary", classes="headline")
            if description:
                yield DataLabel(lambda i18n: description, classes="sentence")
            yield TLabel("lost.claim.how", classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("lost.claim", id="claim", variant="primary", classes="action")

    @on(Button.Pressed, "#claim")
    def _claim(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.push_screen(ClaimPhoneScreen(self.item, self.summary))


class ClaimPhoneScreen(WaitsForCard):
    """The claimant presents their card (a member, where the station lets a card alone claim)
    or types a phone number for staff to call back."""

    TITLE_KEY = "lost.claim"
    PROMPT_KEY = "keypad.claim_phone"
    CARD_PROMPT_KEY = "keypad.claim_phone_or_card"
    KIND = "phone"
    GOES_ON = True

    def __init__(self, item: dict[str, Any], summary: Labeller) -> None:
        super().__init__("claim")
        self.item = item
        self.summary = summary

    def on_card(self, answer: dict[str, Any]) -> bool:
        if answer.get("kind") != "member":
            return False
        self._send(None, str(answer["session"]))
        return True

    def submit(self, value: str) -> None:
        self._send(value, None)

    def _send(self, phone: str | None, session: str | None) -> None:
        number = str(self.item.get("number"))
        description = claim_description(self.item)

        def submitted(claim: dict[str, Any]) -> None:
            self.app.switch_screen(ClaimDoneScreen(str(claim.get("claimant", "")), self.summary))

        def refused(exc: Any) -> None:
            self.clear_entry()
            self.app.push_screen(ErrorScreen(refusal(exc, self.kiosk.info.help_phone)))

        self.call(
            lambda: self.kiosk.client.claim(number, phone, description, session),
            done=submitted,
            refused=refused,
        )


KIOSK_CLAIM_NOTE = "claimed at the touchscreen from the listing: "
"""How a claim made here begins (English: it is for the usage log and the office); the staff
screen shows the listing in its own words instead."""


def claim_description(item: dict[str, Any]) -> str:
    """What the claimant says they lost: the listing they picked (the kiosk has no keyboard)."""
    parts = [str(item.get(k) or "") for k in ("category", "colour", "place", "description")]
    return KIOSK_CLAIM_NOTE + ", ".join(p for p in parts if p)


class ClaimDoneScreen(KioskScreen):
    TITLE_KEY = "lost.claim"

    def __init__(self, claimant: str, summary: Labeller) -> None:
        super().__init__()
        self.claimant = claimant
        self.summary = summary

    def body(self) -> ComposeResult:
        with Vertical(classes="panel"):
            yield TLabel("lost.claim.sent", id="claim-sent", classes="headline")
            yield DataLabel(self.summary, classes="sentence")
            yield TLabel("lost.claim.next", {"phone": self.claimant}, classes="sentence")
        with Horizontal(classes="actions"):
            yield TButton("nav.done", id="done", variant="primary", classes="action")

    def go_back(self) -> None:
        self.kiosk.go_home()

    @on(Button.Pressed, "#done")
    def _done(self, event: Button.Pressed) -> None:
        event.stop()
        self.kiosk.go_home()

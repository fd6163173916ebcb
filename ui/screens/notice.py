"""One notice from the central office in full: what the Home strip's single line cut short,
with the merchant's name for a promotion and the time it runs until."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll

from ui.i18n import Translator
from ui.screens.base import KioskScreen
from ui.widgets.text import DataLabel, Labeller


def notice_title(notice: dict[str, Any]) -> Labeller:
    merchant = notice.get("merchant")
    if merchant:
        return lambda i18n: i18n.t("notice.promo.title", merchant=merchant)
    return lambda i18n: i18n.t("notice.title")


def notice_body(notice: dict[str, Any]) -> Labeller:
    return lambda i18n: i18n.pick(notice.get("text"), notice.get("text_en"))


def notice_until(notice: dict[str, Any]) -> Labeller:
    ends = notice.get("ends_at")

    def label(i18n: Translator) -> str:
        return i18n.t("notice.until", until=i18n.when(ends)) if ends else ""

    return label


class NoticeScreen(KioskScreen):
    def __init__(self, notice: dict[str, Any]) -> None:
        super().__init__()
        self.notice = notice

    def title_widget(self) -> DataLabel:
        return DataLabel(notice_title(self.notice), id="title")

    def body(self) -> ComposeResult:
        with VerticalScroll(id="notice-full"):
            yield DataLabel(notice_body(self.notice), id="notice-text", classes="lead")
            yield DataLabel(notice_until(self.notice), id="notice-until", classes="muted")

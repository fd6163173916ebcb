"""The one translation catalogue: complete, consistent, and the only source of words in ui/."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from ui.i18n import CATALOGUE, Translator, mask_phone

UI = Path(__file__).resolve().parents[2] / "ui"
SOURCES = sorted(p for p in UI.rglob("*.py") if p.name != "i18n.py")
KEY = re.compile(r"^[a-z_]+(\.[a-zA-Z_]+)+$")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
TEXT_WIDGETS = {"Static", "Label", "Button", "TLabel", "TButton"}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_entry_has_both_languages_with_the_same_fields(key: str) -> None:
    zh, en = CATALOGUE[key]
    assert zh.strip() and en.strip(), f"{key}: both languages need a text"
    assert _fields(zh) == _fields(en), f"{key}: fields differ between zh and en"
    assert not CJK.search(en) or key == "lang.toggle", f"{key}: English text has CJK in it"


def _keys_used() -> tuple[set[str], set[str]]:
    """String constants that look like catalogue keys, and prefixes of f-string keys."""
    keys: set[str] = set()
    prefixes: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if KEY.match(node.value) and not node.value.endswith((".py", ".tcss")):
                    keys.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and re.match(r"^[a-z_]+\.", str(first.value)):
                    prefixes.add(str(first.value))
    return keys, prefixes


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    keys, prefixes = _keys_used()
    assert len(keys) > 150
    # A key may also be the prefix of a family chosen at run time (maint.disposition.police).
    missing = {
        k for k in keys if k not in CATALOGUE and not any(c.startswith(k + ".") for c in CATALOGUE)
    }
    assert not missing, f"keys used in ui/ but not in the catalogue: {sorted(missing)}"
    for prefix in prefixes:
        assert any(c.startswith(prefix) for c in CATALOGUE), f"no catalogue key starts {prefix!r}"


def test_no_chinese_outside_the_catalogue() -> None:
    for path in SOURCES:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            assert not CJK.search(code), f"{path.relative_to(UI)}:{n}: Chinese outside i18n.py"


def test_no_words_handed_to_widgets_as_literals() -> None:
    """Widgets get catalogue keys or data; a literal with letters in a widget is a leak."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            text = first.value
            if name in ("Static", "Label", "Button") and re.search(r"[A-Za-z]", text):
                raise AssertionError(f"{path.relative_to(UI)}:{node.lineno}: literal {text!r}")
            if name in ("TLabel", "TButton"):
                assert text in CATALOGUE, f"{path.relative_to(UI)}:{node.lineno}: {text!r}"
            if name == "update" and re.search(r"[A-Za-z\u3400-\u9fff]", text):
                raise AssertionError(f"{path.relative_to(UI)}:{node.lineno}: update({text!r})")


def test_translator_switches_language_and_formats() -> None:
    i18n = Translator("zh", "Asia/Shanghai")
    assert i18n.t("door.open", locker="A03") == "柜门 A03 已打开"
    assert i18n.toggle() == "en"
    assert i18n.t("door.open", locker="A03") == "Door A03 is open"
    assert i18n.pick("电钻", "Drill") == "Drill"
    assert i18n.pick("电钻", "") == "电钻"
    with pytest.raises(KeyError, match=r"no text 'no\.such\.key'"):
        i18n.t("no.such.key")


def test_times_are_shown_in_the_station_time_zone() -> None:
    ts = 1_767_225_600.0  # 2026-01-01 00:00 UTC
    zh, en = Translator("zh", "Asia/Shanghai"), Translator("en", "Asia/Shanghai")
    assert zh.when(ts) == "1月1日 08:00"
    assert en.when(ts) == "1 Jan 08:00"
    assert zh.duration(2 * 86_400) == "2天"
    assert en.duration(90 * 60) == "1 h 30 min"
    assert zh.duration(45 * 60) == "45分钟"


def test_a_phone_number_is_only_ever_shown_masked() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("123") == "***"

"""Texts built from daemon data: the Home strip, notices and the sync panel's lines."""

from __future__ import annotations

import re

from ui.i18n import CATALOGUE, Translator
from ui.screens.home import current_notices, notice_text, rest_text, supplies_text
from ui.screens.maintenance.panels import sync_lines

ZH, EN = Translator("zh"), Translator("en")
SUPPLIES = [
    {"id": "water", "name": "饮用水", "name_en": "Drinking water", "count": 30, "low": False},
    {"id": "balm", "name": "清凉油", "name_en": "Cooling balm", "count": 0, "low": True},
    {"id": "huoxiang", "name": "藿香正气水", "name_en": "Huoxiang", "count": 2, "low": True},
    {"id": "wipes", "name": "湿巾", "name_en": "Wet wipes", "count": None, "low": False},
]


def test_the_rest_area_is_never_called_free_when_nobody_knows() -> None:
    assert rest_text({"state": "occupied"})(ZH) == "休息区：有人"
    assert rest_text({"state": "vacant"})(EN) == "Rest area: free"
    assert rest_text({"state": "unknown"})(ZH) == "休息区：状态未知"
    assert rest_text(None)(EN) == "Rest area: not known"


def test_supplies_say_in_stock_low_or_out_and_skip_what_was_never_counted() -> None:
    assert supplies_text(SUPPLIES, 2)(ZH) == (
        "物资：饮用水 有 · 清凉油 无 · 藿香正气水 少 · 充电 有空位"
    )
    assert supplies_text(SUPPLIES, 0)(EN) == (
        "Supplies: Drinking water ✓ · Cooling balm out · Huoxiang low · charging full"
    )
    assert supplies_text(None, None)(ZH) == "物资：暂无信息"


def test_notices_from_the_central_office_in_the_language_shown() -> None:
    notice = {"id": "n1", "text": "今晚停水", "text_en": "No water tonight", "level": "info"}
    assert notice_text(notice)(ZH) == "通知：今晚停水"
    assert notice_text(notice)(EN) == "Notice: No water tonight"
    assert notice_text({"id": "n2", "text": "只有中文", "text_en": ""})(EN) == "Notice: 只有中文"
    assert notice_text(None)(ZH) == ""


def test_sync_status_lines_with_an_error_and_its_advice() -> None:
    status = {
        "enabled": True,
        "central": "central.example.org",
        "pending": 50,
        "lag_s": 3600.0,
        "last_success_at": 1_767_225_600.0,
        "last_error": {"kind": "network", "message": "connection refused", "advice": "check 4G"},
        "bundle": {"version": 7, "status": "ok"},
    }
    lines = [line.text(ZH) for line in sync_lines(status)]
    assert lines == [
        "同步：已开启",
        "中心：central.example.org",
        "待上传 50 条（滞后 1小时）",
        "上次成功：1月1日 08:00",
        "下发配置：第 7 版（正常）",
        "最近错误：连不上中心。请检查 4G 路由器；记录保存在本机，恢复后自动上传",
        "技术详情（给技术员）：connection refused",
    ]
    # On the 7 inch panel only what staff act on: on, waiting, last success, what to do.
    extra = [line.extra for line in sync_lines(status)]
    assert extra == [False, True, False, False, True, False, True]
    # A kind this release does not know yet: the daemon's own words, as they are.
    status["last_error"] = {"kind": "novel", "message": "it broke", "advice": "check it"}
    status["bundle"] = {"version": 8, "status": "rejected"}
    lines = [line.text(ZH) for line in sync_lines(status)]
    assert lines[-3:] == [
        "下发配置：第 8 版（被拒绝，请联系技术员）",
        "最近错误：novel it broke",
        "建议：check it",
    ]


def test_every_kind_of_sync_problem_has_words_in_both_languages() -> None:
    import inspect

    from station.sync import errors

    kinds = set(re.findall(r'SyncProblem\(\s*"([a-z_]+)"', inspect.getsource(errors)))
    assert len(kinds) >= 13
    assert {k for k in kinds if f"maint.sync.kind.{k}" not in CATALOGUE} == set()


def test_only_notices_whose_time_has_come_are_shown() -> None:
    notices = [
        {"id": "always", "text": "a"},
        {"id": "past", "text": "b", "starts_at": 0.0, "ends_at": 100.0},
        {"id": "now", "text": "c", "starts_at": 100.0, "ends_at": 300.0},
        {"id": "later", "text": "d", "starts_at": 300.0, "ends_at": None},
    ]
    assert [n["id"] for n in current_notices(notices, 200.0)] == ["always", "now"]

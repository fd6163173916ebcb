"""What a message about an alert says: a pure function of the alert, in Chinese then English.

The text holds what the station's alarm holds (type, subject such as a locker, the station's
own detail) and never a person's number: stations keep no full numbers, and central's own
alarms name only stations.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from central.storage.base import AlertMessage

TITLES = {
    "forced_open": ("柜门被强行打开", "door forced open"),
    "door_jammed": ("柜门卡住", "door jammed"),
    "door_left_open": ("柜门未关", "door left open"),
    "board_offline": ("锁控板离线", "lock board offline"),
    "sensor_offline": ("传感器离线", "sensor offline"),
    "pin_lockout": ("密码多次错误已锁定", "PIN locked out"),
    "guessing": ("疑似猜码", "code guessing"),
    "low_stock": ("物资不足", "supplies low"),
    "sync_failing": ("同步失败", "sync failing"),
    "disk_full": ("存储已满", "disk full"),
    "database_behind": ("站点数据库丢失最新记录", "station database lost its newest events"),
    "station_offline": ("站点离线", "station offline"),
}
KINDS = {
    "raised": ("告警", "ALARM"),
    "reminder": ("提醒 未确认", "REMINDER, not acknowledged"),
    "cleared": ("已恢复", "CLEARED"),
}


def compose(message: AlertMessage, station_name: str, timezone: str) -> tuple[str, str]:
    """(title, body) of the message."""
    a = message.alert
    tz = ZoneInfo(timezone)
    zh, en = TITLES.get(a.type, (a.type, a.type))
    kind_zh, kind_en = KINDS[message.kind]
    where = f"{a.station} {station_name}".strip()
    title = f"[{kind_zh} {kind_en}] {where}: {zh} {en}"
    if a.subject and a.subject != a.station:
        title += f" ({a.subject})"
    lines = [
        f"站点 Station: {where}",
        f"类型 Type: {zh} / {en} ({a.type})",
    ]
    if a.subject:
        lines.append(f"对象 Subject: {a.subject}")
    if a.detail:
        lines.append(f"说明 Detail: {a.detail}")
    lines.append(f"发生 Raised: {_local(a.raised_at, tz)} ({timezone})")
    if message.kind == "cleared" and a.cleared_at is not None:
        lines.append(f"恢复 Cleared: {_local(a.cleared_at, tz)}")
    if message.kind == "reminder":
        lines.append("请确认处理 Please acknowledge it at the station or on the dashboard.")
    lines.append(f"编号 Alert: {a.id} ({a.station}/{a.source})")
    return title, "\n".join(lines)


def _local(t: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")

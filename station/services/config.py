"""Config section `[services]`: lending, lost and found, storage and the supplies list.

The table is optional so that a config written before the services existed stays valid.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LendingConfig(_Section):
    max_loans: Annotated[int, Field(ge=1, le=20)] = 2
    """Tools one member may have out at once."""
    approval_valid_min: Annotated[float, Field(gt=0, le=7 * 24 * 60)] = 60.0
    """How long a staff approval for a risky tool waits for the member to borrow it."""
    answer_wait_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    """How long a return waits for 'works / needs repair / parts missing' after the door closes;
    without an answer the tool goes to maintenance for staff to check."""


class LostFoundConfig(_Section):
    retention_days: Annotated[float, Field(gt=0, le=3650)] = 30.0
    """Unclaimed items become `expired` after this and are listed for staff to remove."""
    valuables_collect_h: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    """Staff should take valuables (documents, phones, wallets) out of the locker within this."""
    claim_code_valid_h: Annotated[float, Field(gt=0, le=24 * 30)] = 48.0
    places: list[Annotated[str, Field(min_length=1, max_length=40)]] = [
        "本站附近",
        "公交站",
        "地铁站",
        "公园",
        "菜市场",
        "小区门口",
    ]
    """Preset 'where found' choices for this station's area (free text is always allowed)."""
    answer_wait_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """With item sensors: how long "did you put it in?" waits after a hand-in closed empty."""


class StorageConfig(_Section):
    code_valid_h: Annotated[float, Field(gt=0, le=24 * 30)] = 12.0
    """A deposit's pickup code works this long; later the deposit is overtime, for staff."""
    answer_wait_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """With item sensors: how long "did you put your things in?" (a deposit closed empty) and
    "something is still inside" (a pickup) wait for the person's answer."""


class SupplyConfig(_Section):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
    name: Annotated[str, Field(min_length=1, max_length=40)]
    name_en: Annotated[str, Field(min_length=1, max_length=60)]
    unit: str = "件"
    threshold: Annotated[int, Field(ge=0, le=100_000)] = 5
    """At or below this count the supply is low: a `low_stock` alarm for staff and central."""


_DEFAULT_SUPPLIES = [
    SupplyConfig(id="water", name="饮用水", name_en="Drinking water", unit="瓶", threshold=12),
    SupplyConfig(
        id="huoxiang", name="藿香正气水", name_en="Huoxiang Zhengqi liquid", unit="支", threshold=10
    ),
    SupplyConfig(id="balm", name="清凉油", name_en="Cooling balm", unit="盒", threshold=5),
    SupplyConfig(id="wipes", name="湿巾", name_en="Wet wipes", unit="包", threshold=5),
]


class ServicesConfig(_Section):
    close_wait_s: Annotated[float, Field(gt=0, le=86_400)] = 600.0
    """How long a flow waits for its door to close before it is called abandoned."""
    lending: LendingConfig = LendingConfig()
    lost_found: LostFoundConfig = LostFoundConfig()
    storage: StorageConfig = StorageConfig()
    supplies: list[SupplyConfig] = _DEFAULT_SUPPLIES

    @model_validator(mode="after")
    def _unique_supplies(self) -> ServicesConfig:
        dup = [s for s, n in Counter(s.id for s in self.supplies).items() if n > 1]
        if dup:
            raise ValueError(f"supplies: id repeated: {', '.join(dup)}")
        return self

"""Prometheus metric families built sample by sample, for the station's and central's /metrics.

Both /metrics endpoints derive every series from one snapshot at scrape time; this builder is
the shared part, so the two sides name and label their families the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)


class Families:
    """Metric families built sample by sample: the first sample of a name fixes its labels."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._families: dict[str, Metric] = {}

    def gauge(self, name: str, doc: str, value: float | None, **labels: str) -> None:
        self._add(GaugeMetricFamily, name, doc, value, labels)

    def counter(self, name: str, doc: str, value: float | None, **labels: str) -> None:
        """`name` without `_total`; the text format adds it."""
        self._add(CounterMetricFamily, name, doc, value, labels)

    def info(self, doc: str, labels: dict[str, str]) -> None:
        """`<prefix>info` (the text format adds `_info` to the prefix's stem)."""
        family = InfoMetricFamily(self.prefix.rstrip("_"), doc, labels=list(labels))
        family.add_metric(list(labels.values()), labels)
        self._families["info"] = family

    def enum(self, name: str, doc: str, current: str, states: Iterable[str], **labels: str) -> None:
        """One series per state, 1 for the current one (Prometheus' enum idiom)."""
        for state in states:
            self.gauge(name, doc, 1.0 if state == current else 0.0, **labels, state=state)

    def _add(
        self,
        kind: Callable[..., Metric],
        name: str,
        doc: str,
        value: float | None,
        labels: dict[str, str],
    ) -> None:
        if value is None:
            return
        family = self._families.get(name)
        if family is None:
            family = kind(f"{self.prefix}{name}", doc, labels=list(labels))
            self._families[name] = family
        family.add_metric(list(labels.values()), float(value))  # type: ignore[attr-defined]

    def collect(self) -> list[Metric]:
        return list(self._families.values())

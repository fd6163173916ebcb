"""The station-central contract: what travels between a station and the central office.

Both sides import this package and nothing of each other: the usage-log event as it travels
(`event`), the ingest batch and central's answer (`batch`), the downlink bundle (`bundle`) and
the Prometheus family builder both /metrics endpoints use (`metrics`). It depends on nothing of
ours, so a change to the wire format is one change here, seen by both sides' tests.
"""

"""The staff maintenance screens, behind the small staff button on Home."""

from ui.screens.maintenance.login import StaffNumberScreen

__all__ = ["StaffNumberScreen"]

"""The office's reports: service figures folded once from the usage logs, cut into periods,
and handed out as JSON, CSV and XLSX."""

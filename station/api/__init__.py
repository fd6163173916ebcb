"""The daemon's local HTTP API: the only way the UI, staff tools and central reach the station."""

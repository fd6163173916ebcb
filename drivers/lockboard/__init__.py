"""Lock boards: the port the station drives doors through, and its backends."""

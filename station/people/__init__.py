"""Members and staff: who may do what at the station, proven by phone or staff number and PIN."""

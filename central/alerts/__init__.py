"""Alerts to people: the stations' alarms (and central's own, a station gone silent) sent to
the office's channels through Apprise, once per alarm, with reminders and a message on clear."""

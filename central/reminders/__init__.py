"""Reminders to members who opted in: a loan due tomorrow, a loan overdue, a claim approved.

The member's contact is held only here at central, sealed (Fernet) with a key from central's
settings; it never goes into a bundle, an event or a log line, and staff delete it on the
member's request, which stops every reminder not yet sent."""

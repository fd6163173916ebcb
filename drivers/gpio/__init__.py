"""GPIO backends on gpiozero: door relays and reed switches, output relays, the PIR sensor.

Every device takes its pin factory from the caller (the composition root passes one; tests pass
gpiozero.pins.mock.MockFactory), so nothing here depends on gpiozero's global default.
"""

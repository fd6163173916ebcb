"""Card readers and QR scanners: USB HID keyboard-type (python-evdev) and serial (pyserial)."""

"""The headless command line: `pos ...`."""

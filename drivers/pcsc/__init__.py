"""PC/SC smart-card readers: enumeration, card events, one device thread per
reader, and the APDU transport."""

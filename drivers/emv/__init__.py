"""The EMV contact kernel: application selection, GPO, records, risk,
cardholder verification and GENERATE AC, over any APDU transport."""

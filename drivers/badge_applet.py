"""The staff badge applet's interface, shared by the reader (drivers.pcsc.badge)
and the emulated badge (drivers.virtualcard.badge)."""

from __future__ import annotations

# A proprietary AID (RID F0: not registered): "POSBADGE" 00 01.
BADGE_AID = bytes.fromhex("F0504F5342414447450001")
TAG_BADGE_ID = 0xC1
TAG_PUBLIC_KEY = 0x86
INS_KEY_PAIR = 0x46  # ISO 7816-8 GENERATE ASYMMETRIC KEY PAIR
P1_GENERATE = 0x80
P1_READ = 0x81
INS_INTERNAL_AUTHENTICATE = 0x88
SW_NO_KEY = 0x6A88

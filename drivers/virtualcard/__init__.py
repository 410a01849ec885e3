"""An EMV contact card emulator on vsmartcard's vpcd protocol, for the demo
and the tests: the same pyscard -> pcscd -> reader driver path a real card
takes, with a card that lives in this process."""

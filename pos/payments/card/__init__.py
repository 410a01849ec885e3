"""Card payments: the CardTerminal port, the card channel, the ISO 8583
acquirer client with reversal and offline store-and-forward, and the
sandbox acquirer/issuer."""

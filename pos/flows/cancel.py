"""The cancel token the flows hand to a running payment, refund or export: the
payments' token (set from any thread, read between polls) plus waiting and
raising for loops that sleep or iterate."""

from __future__ import annotations

from pos.payments.channel import CancelToken as _PaymentCancelToken


class Cancelled(Exception):
    """The operation stopped because somebody asked it to."""


class CancelToken(_PaymentCancelToken):
    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on cancel; True when cancelled."""
        return self._event.wait(seconds)

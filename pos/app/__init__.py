"""The till: one assembly of the core for every front end (the Qt counter,
the kiosk, the command line), built by `open_till`, the only composition root."""

from __future__ import annotations

from pos.app.connectivity import Connectivity
from pos.app.till import Till, TillOptions, open_till

__all__ = ["Connectivity", "Till", "TillOptions", "open_till"]

"""The demo's accounts, printed on the console and the login screen of the demo only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str
    role: str
    pin: str


MANAGER = DemoUser("m1", "王芳 Wang Fang", "manager", "2580")
CASHIER = DemoUser("c1", "李雷 Li Lei", "cashier", "1357")

"""The PySide6 app: cashier, payment dialogs, kiosk, manager screens and the
composition root. Only `ui.qt` imports PySide6; screens are thin and drive the
Qt-free flows in `pos.flows`."""

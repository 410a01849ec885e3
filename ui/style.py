"""The app's style sheets: the counter's and the kiosk's larger type. Every
text colour is set together with the background it sits on, so each pair can
be checked against WCAG 2.2 AA (4.5:1, 3:1 for text of 24 px and up), and
every touch target is at least TOUCH_MIN high (tests/ui/test_contrast_touch.py)."""

from __future__ import annotations

TOUCH_MIN = 48  # px: the smallest target a finger hits reliably (WCAG asks 44)

INK = "#212529"
PAGE = "#ffffff"
MUTED = "#5c636a"

STYLE = f"""
QWidget {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; font-size: 16px;
          color: {INK}; background-color: {PAGE}; }}
QPushButton {{ min-height: {TOUCH_MIN}px; padding: 4px 14px; border-radius: 6px;
              color: {INK}; background-color: #f1f3f5; border: 1px solid #ced4da; }}
QPushButton:pressed {{ color: {INK}; background-color: #dee2e6; }}
QPushButton:disabled {{ color: {MUTED}; background-color: #e9ecef; border: 1px dashed #adb5bd; }}
QPushButton[role="primary"] {{ color: #ffffff; background-color: #1971c2; border: none;
                               font-weight: bold; }}
QPushButton[role="danger"] {{ color: #ffffff; background-color: #c92a2a; border: none; }}
QPushButton[role="alipay"] {{ color: #ffffff; background-color: #0958d9; border: none;
                              font-weight: bold; }}
QPushButton[role="wechat"] {{ color: #ffffff; background-color: #067d3e; border: none;
                              font-weight: bold; }}
QPushButton[role="card"] {{ color: #ffffff; background-color: #495057; border: none;
                            font-weight: bold; }}
QPushButton[role="cash"] {{ color: {INK}; background-color: #f59f00; border: none;
                            font-weight: bold; }}
QPushButton[role]:disabled {{ color: {MUTED}; background-color: #e9ecef;
                              border: 1px dashed #adb5bd; }}
QLabel[role="total"] {{ font-size: 40px; font-weight: bold; color: {INK}; }}
QLabel[role="due"] {{ font-size: 56px; font-weight: bold; color: {INK}; }}
QLabel[role="change"] {{ font-size: 40px; font-weight: bold; color: #ffffff;
                         background-color: #067d3e; padding: 4px 12px; }}
QLabel[role="small_total"] {{ font-size: 18px; color: {MUTED}; }}
QLabel[role="title"] {{ font-size: 24px; font-weight: bold; color: {INK}; }}
QLabel[role="error"] {{ color: #c92a2a; font-weight: bold; }}
QLabel[role="info"] {{ color: #1864ab; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="banner"] {{ color: #ffffff; background-color: #c92a2a; font-weight: bold;
                         padding: 6px 12px; }}
QLabel[role="money_back"] {{ font-size: 32px; font-weight: bold; color: {INK};
                             background-color: #fff3bf; padding: 8px 12px; }}
QLineEdit {{ min-height: {TOUCH_MIN}px; font-size: 18px; color: {INK};
            background-color: {PAGE}; }}
QCheckBox {{ spacing: 12px; min-height: {TOUCH_MIN}px; }}
QCheckBox::indicator {{ width: 28px; height: 28px; }}
QPlainTextEdit[role="receipt"] {{ font-family: "Noto Sans Mono CJK SC", monospace;
                                  font-size: 15px; }}
QTableView, QTableWidget, QListWidget {{ font-size: 16px; color: {INK}; background-color: {PAGE};
    selection-color: #ffffff; selection-background-color: #1864ab; }}
QListWidget::item {{ min-height: {TOUCH_MIN}px; }}
QHeaderView::section {{ color: {INK}; background-color: #f1f3f5; padding: 4px;
                        border: none; border-bottom: 1px solid #ced4da; }}
QTabBar::tab {{ min-height: {TOUCH_MIN}px; padding: 0 18px; color: {INK};
                background-color: #f1f3f5; border: 1px solid #ced4da; }}
QTabBar::tab:selected {{ color: #ffffff; background-color: #1971c2; }}
"""

KIOSK_STYLE = """
QWidget { font-size: 22px; }
QLabel[role="total"] { font-size: 52px; font-weight: bold; }
QLabel[role="title"] { font-size: 30px; font-weight: bold; }
QTableWidget { font-size: 22px; }
"""

"""After card sales of every kind, no full card number is anywhere the
terminal writes: the decrypted database, its files and WAL, the journal, or
the logs."""

from __future__ import annotations

import logging
import re

from drivers.virtualcard.profiles import MASTERCARD, UNIONPAY, VISA
from pos.payments.card.pan import luhn_valid

DIGIT_RUN = re.compile(rb"(?<![0-9])[0-9]{13,19}(?![0-9])")
# Cryptographic outputs are random text; a digit run in them is chance, not a card.
RANDOM_COLUMNS = {"hash", "prev_hash", "signature", "card_token", "sealed_card", "public_key"}


def _card_forms(pan: str) -> list[bytes]:
    bcd = bytes.fromhex(pan + ("F" if len(pan) % 2 else ""))
    return [pan.encode(), bcd, bcd.hex().encode(), bcd.hex().upper().encode()]


def _luhn_runs(data: bytes) -> list[bytes]:
    return [m.group() for m in DIGIT_RUN.finditer(data) if luhn_valid(m.group().decode())]


def test_no_full_card_number_is_stored_or_logged(rig, counter, tmp_path, caplog):
    log_file = tmp_path / "terminal.log"
    file_handler = logging.FileHandler(log_file)
    file_handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(file_handler)
    caplog.set_level(logging.DEBUG)
    try:
        counter.hand_over(VISA)
        assert rig.pay(10_00).paid
        rig.acquirer.set_account(MASTERCARD.pan, balance_minor=1)
        counter.hand_over(MASTERCARD)
        assert not rig.pay(10_00).paid
        counter.hand_over(UNIONPAY)
        rig.acquirer.add_fault("timeout", op="start", delay=1.5)
        assert not rig.pay(11_00).paid
        port = rig.acquirer.address[1]
        rig.acquirer.stop()
        counter.hand_over(VISA)
        assert rig.pay(12_00).paid
        back = rig.acquirer.restarted(port)
        try:
            assert rig.channel.forwarder.forward_pending().accepted == 1
        finally:
            back.stop()
    finally:
        root.removeHandler(file_handler)
        file_handler.close()

    pans = [VISA.pan, MASTERCARD.pan, UNIONPAY.pan]
    found: list[str] = []
    db = rig.terminal.db
    with db.read() as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "card_payments" in tables and "journal" in tables
        for table in tables:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            for row in cur.fetchall():
                for name, value in zip(names, tuple(row), strict=True):
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    if any(form in raw for pan in pans for form in _card_forms(pan)):
                        found.append(f"{table}.{name}: a test card number")
                    if name not in RANDOM_COLUMNS and _luhn_runs(raw):
                        found.append(f"{table}.{name}: {_luhn_runs(raw)}")
        masked = {r[0] for r in conn.execute("SELECT masked_pan FROM card_payments")}
    assert masked == {"476173******" + VISA.pan[-4:], "541333******" + MASTERCARD.pan[-4:],
                      "623456*********" + UNIONPAY.pan[-4:]}  # fmt: skip

    files = [p for p in db.path.parent.iterdir() if p.name.startswith(db.path.name)]
    assert any(p.name.endswith("-wal") for p in files) or files
    for path in [*files, log_file]:
        data = path.read_bytes()
        for pan in pans:
            if any(form in data for form in _card_forms(pan)):
                found.append(f"{path.name}: a test card number")
    log_text = log_file.read_bytes() + caplog.text.encode()
    if _luhn_runs(log_text):
        found.append(f"logs: {_luhn_runs(log_text)}")
    assert log_text, "the sales wrote no log at all, so the sweep proves nothing"
    assert found == []

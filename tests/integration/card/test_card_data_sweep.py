"""After card sales of every kind, no full card number is anywhere the
terminal writes: the decrypted database, its files and WAL, the journal, or
the logs."""

from __future__ import annotations

import logging

from drivers.virtualcard.profiles import MASTERCARD, UNIONPAY, VISA
from tests.integration.card.pan_sweep import luhn_runs, sweep_bytes, sweep_database


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
    db = rig.terminal.db
    found = sweep_database(db, pans)
    with db.read() as conn:
        masked = {r[0] for r in conn.execute("SELECT masked_pan FROM card_payments")}
    assert masked == {"476173******" + VISA.pan[-4:], "541333******" + MASTERCARD.pan[-4:],
                      "623456*********" + UNIONPAY.pan[-4:]}  # fmt: skip

    files = [p for p in db.path.parent.iterdir() if p.name.startswith(db.path.name)]
    assert any(p.name.endswith("-wal") for p in files) or files
    for path in [*files, log_file]:
        found += sweep_bytes(path.name, path.read_bytes(), pans, luhn=False)
    log_text = log_file.read_bytes() + caplog.text.encode()
    assert luhn_runs(log_text) == 0
    assert log_text, "the sales wrote no log at all, so the sweep proves nothing"
    assert found == [], "\n".join(found)

"""The platforms' daily bills: downloaded by a channel that has them
(`BillingChannel`: Alipay's zipped GBK 业务明细 CSV, WeChat Pay's trade bill,
a backquote-prefixed CSV) and read into rows the terminal can reconcile
against its own payments."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pos.errors import InvalidInput, PosError
from pos.messages import Message, msg
from pos.money import Money, MoneyError
from pos.order.tenders import channel_label


@dataclass(frozen=True, slots=True)
class BillRow:
    platform: str
    kind: str  # payment | refund
    out_trade_no: str
    trade_no: str
    out_refund_no: str
    amount: Money  # positive for both kinds
    fee: Money  # service fee charged (negative when given back on a refund)
    time: str  # Beijing time as the bill prints it


def _money(text: str, what: str) -> Money:
    try:
        return Money.parse(text.strip().lstrip("`") or "0")
    except MoneyError as exc:
        raise InvalidInput(
            msg("payments.bill.bad_value", what=msg(f"payments.bill.what.{what}"), text=repr(text))
        ) from exc


def parse_alipay_bill(data: bytes) -> list[BillRow]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            name = next(n for n in zf.namelist() if n.endswith("_业务明细.csv"))
            text = zf.read(name).decode("gbk")
    except (zipfile.BadZipFile, StopIteration, UnicodeDecodeError, KeyError) as exc:
        raise InvalidInput(msg("payments.bill.not_alipay_zip")) from exc
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    rows = []
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or header[0].strip() != "支付宝交易号":
        raise InvalidInput(msg("payments.bill.alipay_no_header"))
    for rec in reader:
        if len(rec) < 25:
            raise InvalidInput(
                msg("payments.bill.short_line", platform=channel_label("alipay"), line=rec[:2])
            )
        kind = "refund" if rec[2].strip() == "退款" else "payment"
        amount = _money(rec[11], "amount")
        rows.append(
            BillRow(
                "alipay",
                kind,
                rec[1].strip(),
                rec[0].strip(),
                rec[21].strip(),
                Money(abs(amount.minor)),
                -_money(rec[22], "fee"),
                rec[5].strip(),
            )
        )
    return rows


def parse_wechat_bill(data: bytes) -> list[BillRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(msg("payments.bill.wechat_not_utf8")) from exc
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or header[0] != "交易时间":
        raise InvalidInput(msg("payments.bill.not_wechat"))
    rows = []
    for rec in reader:
        if rec and rec[0] == "总交易单数":
            break
        if len(rec) < 27:
            raise InvalidInput(
                msg("payments.bill.short_line", platform=channel_label("wechat"), line=rec[:2])
            )
        v = [x.lstrip("`") for x in rec]
        if v[9] == "REFUND":
            rows.append(
                BillRow(
                    "wechat",
                    "refund",
                    v[6],
                    v[5],
                    v[15],
                    _money(v[16], "refund"),
                    _money(v[22], "fee"),
                    v[0],
                )
            )
        else:
            rows.append(
                BillRow(
                    "wechat",
                    "payment",
                    v[6],
                    v[5],
                    "",
                    _money(v[12], "amount"),
                    _money(v[22], "fee"),
                    v[0],
                )
            )
    return rows


@runtime_checkable
class BillingChannel(Protocol):
    """A channel whose provider publishes a daily bill."""

    name: str
    bill_suffix: str  # the downloaded file's kind: ".zip", ".csv"

    def daily_bill(self, bill_date: str) -> bytes:
        """The bill of `bill_date` (YYYY-MM-DD, Beijing time) exactly as the provider
        serves it; PosError when there is none yet or it cannot be fetched."""
        ...

    def parse_bill(self, data: bytes) -> list[BillRow]: ...


@dataclass(frozen=True, slots=True)
class BillSummary:
    payments: int
    refunds: int
    paid: Money
    refunded: Money
    fees: Money

    @classmethod
    def of(cls, rows: list[BillRow], currency: str = "CNY") -> BillSummary:
        def total(kind: str | None, pick: str) -> Money:
            picked = [getattr(r, pick).minor for r in rows if kind is None or r.kind == kind]
            return Money(sum(picked), currency)

        return cls(
            payments=sum(1 for r in rows if r.kind == "payment"),
            refunds=sum(1 for r in rows if r.kind == "refund"),
            paid=total("payment", "amount"),
            refunded=total("refund", "amount"),
            fees=total(None, "fee"),
        )


def unreachable(platform: str | Message, bill_date: str, exc: Exception) -> PosError:
    """A bill that could not be fetched (no answer, or none published yet)."""
    return PosError(
        msg("payments.bill.unreachable", platform=platform, date=bill_date, detail=str(exc))
    )


def download_bill(channel: object, bill_date: str) -> tuple[bytes, list[BillRow]]:
    """The day's bill as served, and its rows (a damaged file is refused here,
    before anyone keeps it)."""
    if not isinstance(channel, BillingChannel):
        raise InvalidInput(
            msg("payments.bill.none", channel=channel_label(str(getattr(channel, "name", channel))))
        )
    data = channel.daily_bill(bill_date)
    return data, channel.parse_bill(data)

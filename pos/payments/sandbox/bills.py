"""Daily bills in the platforms' formats: Alipay's zip of GBK CSV files
(业务明细 and 业务明细(汇总)) and WeChat Pay's trade bill (CSV, each field
prefixed with a backquote, then a totals block)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta

from pos.money import div_half_up
from pos.payments.sandbox.keys import ALIPAY_SELLER_ID, WECHAT_APPID, WECHAT_MCHID
from pos.payments.sandbox.state import SandboxState, Trade
from pos.payments.sandbox.wire import beijing, fen_to_yuan

FEE_PER_MILLE = 6  # 0.6%, the usual face-to-face rate

ALIPAY_COLUMNS = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
    "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)
WECHAT_COLUMNS = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
WECHAT_TOTAL_COLUMNS = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)


def fee(fen: int) -> int:
    return div_half_up(fen * FEE_PER_MILLE, 1000)


def _paid_on(state: SandboxState, platform: str, day: str) -> list[Trade]:
    out = []
    for (p, _), trade in sorted(state.trades.items(), key=lambda kv: kv[1].created):
        state.advance(trade)
        if p == platform and trade.paid_at is not None and beijing(trade.paid_at)[:10] == day:
            out.append(trade)
    return out


def _yuan(fen: int) -> str:
    return ("-" if fen < 0 else "") + fen_to_yuan(abs(fen))


def alipay_bill_zip(state: SandboxState, day: str) -> bytes:
    rows = []
    paid_total = refund_total = n_pay = n_refund = 0
    for t in _paid_on(state, "alipay", day):
        created, done = beijing(t.created), beijing(t.paid_at or t.created)
        rows.append(
            f"{t.trade_no},{t.out_trade_no},交易,{t.subject},{created},{done},,,,,"
            f"{t.buyer},{_yuan(t.amount)},{_yuan(t.amount)},0.00,0.00,0.00,0.00,0.00,,"
            f"0.00,0.00,,{_yuan(-fee(t.amount))},0.00,"
        )
        paid_total += t.amount
        n_pay += 1
        for r in t.refunds.values():
            rows.append(
                f"{t.trade_no},{t.out_trade_no},退款,{t.subject},{created},"
                f"{beijing(r.created)},,,,,{t.buyer},{_yuan(-r.amount)},"
                f"{_yuan(-r.amount)},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,"
                f"{r.out_refund_no},{_yuan(fee(r.amount))},0.00,"
            )
            refund_total += r.amount
            n_refund += 1
    start = datetime.strptime(day, "%Y-%m-%d")
    end = start + timedelta(days=1)
    head = [
        "#支付宝业务明细查询",
        f"#账号：[{ALIPAY_SELLER_ID}0156]",
        f"#起始日期：[{start:%Y年%m月%d日} 00:00:00]   终止日期：[{end:%Y年%m月%d日} 00:00:00]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ALIPAY_COLUMNS,
    ]
    tail = [
        "#-----------------------------------------业务明细列表结束------------------------------------",
        f"#交易合计：{n_pay}笔，商家实收：{_yuan(paid_total)}元，商家优惠：0.00元",
        f"#退款合计：{n_refund}笔，商家实收：{_yuan(-refund_total)}元，商家优惠：0.00元",
        f"#导出时间：[{beijing(state.clock.now())}]",
    ]
    summary = [
        "#支付宝业务汇总查询",
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,"
        "支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）",
        f",合计,{n_pay},{n_refund},{_yuan(paid_total - refund_total)},"
        f"{_yuan(paid_total - refund_total)},0.00,0.00,0.00,"
        f"{_yuan(-fee(paid_total) + fee(refund_total))},0.00,"
        f"{_yuan(paid_total - refund_total - fee(paid_total) + fee(refund_total))}",
    ]
    stem = f"{ALIPAY_SELLER_ID}0156_{day.replace('-', '')}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{stem}_业务明细.csv", "\r\n".join(head + rows + tail).encode("gbk"))
        zf.writestr(f"{stem}_业务明细(汇总).csv", "\r\n".join(summary).encode("gbk"))
    return buf.getvalue()


def wechat_trade_bill(state: SandboxState, day: str) -> bytes:
    lines = [WECHAT_COLUMNS]
    n = paid_total = refund_total = fee_total = 0

    def row(values: list[str]) -> str:
        return ",".join("`" + v for v in values)

    for t in _paid_on(state, "wechat", day):
        kind = "NATIVE" if t.mode == "qr" else "MICROPAY"
        base = [
            beijing(t.paid_at or t.created),
            WECHAT_APPID,
            WECHAT_MCHID,
            "0",
            "",
            t.trade_no,
            t.out_trade_no,
            "o" + t.trade_no[-20:],
            kind,
        ]
        lines.append(
            row(
                [
                    *base,
                    "SUCCESS",
                    "OTHERS",
                    "CNY",
                    _yuan(t.amount),
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    t.subject,
                    "",
                    _yuan(fee(t.amount)),
                    "0.60%",
                    _yuan(t.amount),
                    "0.00",
                    "",
                ]
            )
        )
        n += 1
        paid_total += t.amount
        fee_total += fee(t.amount)
        for r in t.refunds.values():
            base[0] = beijing(r.created)
            lines.append(
                row(
                    [
                        *base,
                        "REFUND",
                        "OTHERS",
                        "CNY",
                        "0.00",
                        "0.00",
                        r.refund_no,
                        r.out_refund_no,
                        _yuan(r.amount),
                        "0.00",
                        "ORIGINAL",
                        "SUCCESS",
                        t.subject,
                        "",
                        _yuan(-fee(r.amount)),
                        "0.60%",
                        "0.00",
                        _yuan(r.amount),
                        "",
                    ]
                )
            )
            n += 1
            refund_total += r.amount
            fee_total -= fee(r.amount)
    lines.append(WECHAT_TOTAL_COLUMNS)
    lines.append(
        row(
            [
                str(n),
                _yuan(paid_total),
                _yuan(refund_total),
                "0.00",
                _yuan(fee_total),
                _yuan(paid_total),
                _yuan(refund_total),
            ]
        )
    )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")

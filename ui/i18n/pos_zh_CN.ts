<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ApprovalDialog</name>
    <message>
        <location filename="../widgets.py" line="199"/>
        <source>Manager approval</source>
        <translation>店长批准</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="203"/>
        <source>A manager enters their PIN to approve.</source>
        <translation>请店长输入密码批准。</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="204"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>CartTable</name>
    <message>
        <location filename="../screens/cart.py" line="44"/>
        <source>Item</source>
        <translation>商品</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="45"/>
        <source>Qty</source>
        <translation>数量</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="46"/>
        <source>Price</source>
        <translation>单价</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="47"/>
        <source>Discount</source>
        <translation>优惠</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="48"/>
        <source>Total</source>
        <translation>合计</translation>
    </message>
</context>
<context>
    <name>CashierScreen</name>
    <message>
        <location filename="../screens/cashier.py" line="171"/>
        <source>Cashier: %1</source>
        <translation>收银员：%1</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="172"/>
        <location filename="../screens/cashier.py" line="176"/>
        <source>Manager</source>
        <translation>店长</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="175"/>
        <source>Refund</source>
        <translation>退款</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="177"/>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="178"/>
        <source>Scan, or type a name or code to search</source>
        <translation>扫码，或输入名称、编码搜索</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="179"/>
        <source>Qty…</source>
        <translation>数量…</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="180"/>
        <source>Discount…</source>
        <translation>优惠…</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="181"/>
        <source>Void line</source>
        <translation>删除该行</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="182"/>
        <source>Pay</source>
        <translation>收款</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="183"/>
        <source>Park</source>
        <translation>挂单</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="184"/>
        <source>Resume…</source>
        <translation>取单…</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="185"/>
        <source>Void sale</source>
        <translation>作废订单</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="186"/>
        <source>Check the payment again</source>
        <translation>重新查询付款结果</translation>
    </message>
</context>
<context>
    <name>CustomerDisplay</name>
    <message>
        <location filename="../screens/customer.py" line="53"/>
        <source>Thank you!</source>
        <translation>谢谢惠顾！</translation>
    </message>
    <message>
        <location filename="../screens/customer.py" line="55"/>
        <source>Welcome</source>
        <translation>欢迎光临</translation>
    </message>
    <message>
        <location filename="../screens/customer.py" line="56"/>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <location filename="../screens/customer.py" line="77"/>
        <source>Scan with %1 to pay %2</source>
        <translation>请用%1扫码支付 %2</translation>
    </message>
</context>
<context>
    <name>DayCloseTab</name>
    <message>
        <location filename="../screens/manager.py" line="128"/>
        <source>Close the day %1</source>
        <translation>日结 %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="129"/>
        <source>Reason for over/short (needed when not zero):</source>
        <translation>长短款原因（有差额时必填）：</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="130"/>
        <source>Close the day (manager PIN)</source>
        <translation>日结（店长密码）</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="131"/>
        <source>Cancel export</source>
        <translation>取消导出</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="133"/>
        <source>Export %1</source>
        <translation>导出 %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="174"/>
        <source>Expected in drawer: %1</source>
        <translation>钱箱应有：%1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="176"/>
        <source>Counted: %1</source>
        <translation>清点：%1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="181"/>
        <source>Over by %1</source>
        <translation>长款 %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="183"/>
        <source>Short by %1</source>
        <translation>短款 %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="185"/>
        <source>The drawer matches the count</source>
        <translation>钱箱金额相符</translation>
    </message>
</context>
<context>
    <name>DiscountDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="62"/>
        <source>Line discount</source>
        <translation>单品优惠</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="64"/>
        <source>Percent off</source>
        <translation>折扣</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="71"/>
        <source>Or an amount off</source>
        <translation>或减免金额</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="75"/>
        <source>Apply amount</source>
        <translation>按金额优惠</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="82"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="94"/>
        <source>Write the amount like 5.00</source>
        <translation>请按 5.00 的格式输入金额</translation>
    </message>
</context>
<context>
    <name>IdCheckDialog</name>
    <message>
        <location filename="../widgets.py" line="256"/>
        <source>ID check</source>
        <translation>核对证件</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="257"/>
        <source>Check the shopper&apos;s ID</source>
        <translation>核对顾客身份证件</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="261"/>
        <source>Look at the shopper&apos;s ID card and make sure it is theirs, then confirm.</source>
        <translation>请查看顾客的身份证件，核实是本人后点击下方按钮。</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="263"/>
        <source>I have checked the shopper&apos;s ID</source>
        <translation>我已核对顾客身份证件</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="264"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>KioskWindow</name>
    <message>
        <location filename="../screens/kiosk.py" line="185"/>
        <source>Welcome</source>
        <translation>欢迎光临</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="186"/>
        <source>Scan your first item, or touch to start</source>
        <translation>请扫描第一件商品，或轻触开始</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="187"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="188"/>
        <source>Scan each item&apos;s barcode. Scan your payment code to pay.</source>
        <translation>请逐件扫描商品条码，扫描付款码即可付款。</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="189"/>
        <source>Pay with Alipay</source>
        <translation>支付宝支付</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="190"/>
        <source>Pay with WeChat</source>
        <translation>微信支付</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="191"/>
        <source>Pay by card</source>
        <translation>银行卡支付</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="192"/>
        <source>Remove item (staff)</source>
        <translation>删除商品（店员）</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="193"/>
        <source>Cancel my shopping</source>
        <translation>取消本次购物</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="194"/>
        <source>Close kiosk (staff)</source>
        <translation>关闭自助机（店员）</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="195"/>
        <source>Thank you! Take your receipt and items.</source>
        <translation>谢谢！请带好小票和商品。</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="198"/>
        <location filename="../screens/kiosk.py" line="284"/>
        <source>Attendant is coming</source>
        <translation>店员马上就到</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="200"/>
        <location filename="../screens/kiosk.py" line="286"/>
        <source>Call attendant</source>
        <translation>呼叫店员</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="202"/>
        <source>Staff</source>
        <translation>店员</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="203"/>
        <source>Unfinished sales (staff)</source>
        <translation>未完成订单（店员）</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="205"/>
        <source>Still there? Your cart clears in %1 s. Touch here to continue.</source>
        <translation>还在吗？%1 秒后将清空购物车，轻触此处继续。</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="293"/>
        <source>Total %1</source>
        <translation>合计 %1</translation>
    </message>
</context>
<context>
    <name>LeftOpenDialog</name>
    <message>
        <location filename="../screens/left_open.py" line="83"/>
        <source>Unfinished sales</source>
        <translation>未完成的订单</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="84"/>
        <source>Sales left unfinished</source>
        <translation>有未完成的订单</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="87"/>
        <source>The till stopped before these sales were finished. Resume one to take the rest of the payment, or void it.</source>
        <translation>收银机在这些订单完成前停止了。继续订单以收取剩余款项，或将其作废。</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="91"/>
        <source>Void sale</source>
        <translation>作废订单</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="92"/>
        <source>Later</source>
        <translation>稍后</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="93"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="109"/>
        <source>1 item, %2</source>
        <translation>1 件，%2</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="111"/>
        <source>%1 items, %2</source>
        <translation>%1 件，%2</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="114"/>
        <source>Kiosk</source>
        <translation>自助机</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="114"/>
        <source>Counter</source>
        <translation>收银台</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="118"/>
        <source>Paid %1, %2 due</source>
        <translation>已付 %1，待付 %2</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="134"/>
        <source>Already paid: %1</source>
        <translation>已付：%1</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="136"/>
        <source>Nothing paid yet.</source>
        <translation>尚未付款。</translation>
    </message>
</context>
<context>
    <name>LoginScreen</name>
    <message>
        <location filename="../screens/login.py" line="46"/>
        <source>Store checkout</source>
        <translation>收银台</translation>
    </message>
    <message>
        <location filename="../screens/login.py" line="48"/>
        <source>Enter your PIN to start</source>
        <translation>请输入密码登录</translation>
    </message>
</context>
<context>
    <name>ManagerScreen</name>
    <message>
        <location filename="../screens/manager.py" line="359"/>
        <source>Day close</source>
        <translation>日结</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="360"/>
        <source>Z report</source>
        <translation>Z 报表</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="361"/>
        <source>Refunds and voids</source>
        <translation>退款与作废</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="362"/>
        <source>Offline card queue</source>
        <translation>离线银行卡队列</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="363"/>
        <source>Risk decisions</source>
        <translation>风控决策</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="364"/>
        <source>Sync</source>
        <translation>同步</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="365"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="369"/>
        <source>Back to the till</source>
        <translation>返回收银台</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="370"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
</context>
<context>
    <name>ParkedDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="105"/>
        <source>Parked sales</source>
        <translation>挂起的订单</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="109"/>
        <source>1 item, %2</source>
        <translation>1 件，%2</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="111"/>
        <source>%1 items, %2</source>
        <translation>%1 件，%2</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="118"/>
        <source>Resume</source>
        <translation>取单</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="120"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="124"/>
        <source>No sale is parked.</source>
        <translation>没有挂起的订单。</translation>
    </message>
</context>
<context>
    <name>PaymentDialog</name>
    <message>
        <location filename="../screens/payment.py" line="152"/>
        <source>Payment</source>
        <translation>付款</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="157"/>
        <source>Ask the shopper to scan this code with %1.</source>
        <translation>请顾客用%1扫描此码付款。</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="160"/>
        <source>The shopper is confirming the payment on their phone…</source>
        <translation>顾客正在手机上确认付款…</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="163"/>
        <source>Cancel payment</source>
        <translation>取消付款</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="164"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="211"/>
        <source>Code valid for %1</source>
        <translation>二维码有效期 %1</translation>
    </message>
</context>
<context>
    <name>QuantityDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="31"/>
        <source>Quantity</source>
        <translation>数量</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="41"/>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="43"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="46"/>
        <source>Quantity (0 removes the line)</source>
        <translation>数量（0 表示删除该行）</translation>
    </message>
</context>
<context>
    <name>ReceiptDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="151"/>
        <source>Receipt</source>
        <translation>小票</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="153"/>
        <source>Paid. Receipt %1</source>
        <translation>已付款。小票 %1</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="157"/>
        <source>Change: %1</source>
        <translation>找零：%1</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="164"/>
        <source>Print</source>
        <translation>打印</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="170"/>
        <source>No receipt printer is set up (Manager → Settings).</source>
        <translation>未设置小票打印机（店长 → 设置）。</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="172"/>
        <source>New sale</source>
        <translation>下一单</translation>
    </message>
</context>
<context>
    <name>RefundScreen</name>
    <message>
        <location filename="../screens/refund.py" line="75"/>
        <source>Refund from a receipt</source>
        <translation>凭小票退款</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="76"/>
        <source>Scan or type the receipt number</source>
        <translation>扫描或输入小票号</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="77"/>
        <source>Find sale</source>
        <translation>查找订单</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="78"/>
        <source>Or refund an amount:</source>
        <translation>或按金额退款：</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="79"/>
        <source>Reason:</source>
        <translation>原因：</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="80"/>
        <source>Refund (manager PIN)</source>
        <translation>退款（店长密码）</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="81"/>
        <source>Back</source>
        <translation>返回</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="119"/>
        <source>Receipt %1 · paid %2 · refundable %3</source>
        <translation>小票 %1 · 实付 %2 · 可退 %3</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="144"/>
        <source>Refunded: %1</source>
        <translation>已退款：%1</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="148"/>
        <source>Refund: %1</source>
        <translation>退款：%1</translation>
    </message>
</context>
<context>
    <name>TableView</name>
    <message>
        <location filename="../screens/manager.py" line="63"/>
        <source>Nothing here yet.</source>
        <translation>暂无记录。</translation>
    </message>
</context>
<context>
    <name>TenderPanel</name>
    <message>
        <location filename="../screens/tender.py" line="96"/>
        <source>Amount due</source>
        <translation>应收金额</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="97"/>
        <source>Scan the shopper&apos;s payment code to take it at once.</source>
        <translation>扫描顾客付款码即可直接收款。</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="98"/>
        <source>Pay part (split tender):</source>
        <translation>部分付款（组合支付）：</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="99"/>
        <source>all that is due</source>
        <translation>全部待付金额</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="100"/>
        <source>Cash received</source>
        <translation>实收现金</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="101"/>
        <source>Take
cash</source>
        <translation>收
现金</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="102"/>
        <source>Back to the cart</source>
        <translation>返回购物车</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="123"/>
        <source>%1 QR</source>
        <translation>%1 扫码</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="175"/>
        <source>Change: %1</source>
        <translation>找零：%1</translation>
    </message>
</context>
<context>
    <name>TotalsPanel</name>
    <message>
        <location filename="../screens/cart.py" line="122"/>
        <source>Subtotal</source>
        <translation>小计</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="123"/>
        <source>Discount</source>
        <translation>优惠</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="124"/>
        <source>Tax included</source>
        <translation>含税</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="125"/>
        <source>Paid</source>
        <translation>已付</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="126"/>
        <source>Due</source>
        <translation>待付</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="130"/>
        <source>Total</source>
        <translation>合计</translation>
    </message>
</context>
<context>
    <name>ZReportTab</name>
    <message>
        <location filename="../screens/manager.py" line="296"/>
        <source>%1 · %2 sales · gross %3 · refunds %4 · net %5</source>
        <translation>%1 · %2 笔销售 · 总额 %3 · 退款 %4 · 净额 %5</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="308"/>
        <source>Sales by hour</source>
        <translation>按小时销售额</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="310"/>
        <source>Sales by channel</source>
        <translation>按渠道销售额</translation>
    </message>
</context>
</TS>

<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>ApprovalDialog</name>
    <message>
        <location filename="../widgets.py" line="199"/>
        <source>Manager approval</source>
        <translation>Manager approval</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="203"/>
        <source>A manager enters their PIN to approve.</source>
        <translation>A manager enters their PIN to approve.</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="204"/>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>CartTable</name>
    <message>
        <location filename="../screens/cart.py" line="44"/>
        <source>Item</source>
        <translation>Item</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="45"/>
        <source>Qty</source>
        <translation>Qty</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="46"/>
        <source>Price</source>
        <translation>Price</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="47"/>
        <source>Discount</source>
        <translation>Discount</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="48"/>
        <source>Total</source>
        <translation>Total</translation>
    </message>
</context>
<context>
    <name>CashierScreen</name>
    <message>
        <location filename="../screens/cashier.py" line="171"/>
        <source>Cashier: %1</source>
        <translation>Cashier: %1</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="172"/>
        <location filename="../screens/cashier.py" line="176"/>
        <source>Manager</source>
        <translation>Manager</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="175"/>
        <source>Refund</source>
        <translation>Refund</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="177"/>
        <source>Log out</source>
        <translation>Log out</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="178"/>
        <source>Scan, or type a name or code to search</source>
        <translation>Scan, or type a name or code to search</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="179"/>
        <source>Qty…</source>
        <translation>Qty…</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="180"/>
        <source>Discount…</source>
        <translation>Discount…</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="181"/>
        <source>Void line</source>
        <translation>Void line</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="182"/>
        <source>Pay</source>
        <translation>Pay</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="183"/>
        <source>Park</source>
        <translation>Park</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="184"/>
        <source>Resume…</source>
        <translation>Resume…</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="185"/>
        <source>Void sale</source>
        <translation>Void sale</translation>
    </message>
    <message>
        <location filename="../screens/cashier.py" line="186"/>
        <source>Check the payment again</source>
        <translation>Check the payment again</translation>
    </message>
</context>
<context>
    <name>CustomerDisplay</name>
    <message>
        <location filename="../screens/customer.py" line="53"/>
        <source>Thank you!</source>
        <translation>Thank you!</translation>
    </message>
    <message>
        <location filename="../screens/customer.py" line="55"/>
        <source>Welcome</source>
        <translation>Welcome</translation>
    </message>
    <message>
        <location filename="../screens/customer.py" line="56"/>
        <source>Total</source>
        <translation>Total</translation>
    </message>
    <message>
        <location filename="../screens/customer.py" line="77"/>
        <source>Scan with %1 to pay %2</source>
        <translation>Scan with %1 to pay %2</translation>
    </message>
</context>
<context>
    <name>DayCloseTab</name>
    <message>
        <location filename="../screens/manager.py" line="128"/>
        <source>Close the day %1</source>
        <translation>Close the day %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="129"/>
        <source>Reason for over/short (needed when not zero):</source>
        <translation>Reason for over/short (needed when not zero):</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="130"/>
        <source>Close the day (manager PIN)</source>
        <translation>Close the day (manager PIN)</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="131"/>
        <source>Cancel export</source>
        <translation>Cancel export</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="133"/>
        <source>Export %1</source>
        <translation>Export %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="174"/>
        <source>Expected in drawer: %1</source>
        <translation>Expected in drawer: %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="176"/>
        <source>Counted: %1</source>
        <translation>Counted: %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="181"/>
        <source>Over by %1</source>
        <translation>Over by %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="183"/>
        <source>Short by %1</source>
        <translation>Short by %1</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="185"/>
        <source>The drawer matches the count</source>
        <translation>The drawer matches the count</translation>
    </message>
</context>
<context>
    <name>DiscountDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="62"/>
        <source>Line discount</source>
        <translation>Line discount</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="64"/>
        <source>Percent off</source>
        <translation>Percent off</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="71"/>
        <source>Or an amount off</source>
        <translation>Or an amount off</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="75"/>
        <source>Apply amount</source>
        <translation>Apply amount</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="82"/>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="94"/>
        <source>Write the amount like 5.00</source>
        <translation>Write the amount like 5.00</translation>
    </message>
</context>
<context>
    <name>IdCheckDialog</name>
    <message>
        <location filename="../widgets.py" line="256"/>
        <source>ID check</source>
        <translation>ID check</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="257"/>
        <source>Check the shopper&apos;s ID</source>
        <translation>Check the shopper&apos;s ID</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="261"/>
        <source>Look at the shopper&apos;s ID card and make sure it is theirs, then confirm.</source>
        <translation>Look at the shopper&apos;s ID card and make sure it is theirs, then confirm.</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="263"/>
        <source>I have checked the shopper&apos;s ID</source>
        <translation>I have checked the shopper&apos;s ID</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="264"/>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>KioskWindow</name>
    <message>
        <location filename="../screens/kiosk.py" line="185"/>
        <source>Welcome</source>
        <translation>Welcome</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="186"/>
        <source>Scan your first item, or touch to start</source>
        <translation>Scan your first item, or touch to start</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="187"/>
        <source>Start</source>
        <translation>Start</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="188"/>
        <source>Scan each item&apos;s barcode. Scan your payment code to pay.</source>
        <translation>Scan each item&apos;s barcode. Scan your payment code to pay.</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="189"/>
        <source>Pay with Alipay</source>
        <translation>Pay with Alipay</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="190"/>
        <source>Pay with WeChat</source>
        <translation>Pay with WeChat</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="191"/>
        <source>Pay by card</source>
        <translation>Pay by card</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="192"/>
        <source>Remove item (staff)</source>
        <translation>Remove item (staff)</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="193"/>
        <source>Cancel my shopping</source>
        <translation>Cancel my shopping</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="194"/>
        <source>Close kiosk (staff)</source>
        <translation>Close kiosk (staff)</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="195"/>
        <source>Thank you! Take your receipt and items.</source>
        <translation>Thank you! Take your receipt and items.</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="198"/>
        <location filename="../screens/kiosk.py" line="284"/>
        <source>Attendant is coming</source>
        <translation>Attendant is coming</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="200"/>
        <location filename="../screens/kiosk.py" line="286"/>
        <source>Call attendant</source>
        <translation>Call attendant</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="202"/>
        <source>Staff</source>
        <translation>Staff</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="203"/>
        <source>Unfinished sales (staff)</source>
        <translation>Unfinished sales (staff)</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="205"/>
        <source>Still there? Your cart clears in %1 s. Touch here to continue.</source>
        <translation>Still there? Your cart clears in %1 s. Touch here to continue.</translation>
    </message>
    <message>
        <location filename="../screens/kiosk.py" line="293"/>
        <source>Total %1</source>
        <translation>Total %1</translation>
    </message>
</context>
<context>
    <name>LeftOpenDialog</name>
    <message>
        <location filename="../screens/left_open.py" line="83"/>
        <source>Unfinished sales</source>
        <translation>Unfinished sales</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="84"/>
        <source>Sales left unfinished</source>
        <translation>Sales left unfinished</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="87"/>
        <source>The till stopped before these sales were finished. Resume one to take the rest of the payment, or void it.</source>
        <translation>The till stopped before these sales were finished. Resume one to take the rest of the payment, or void it.</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="91"/>
        <source>Void sale</source>
        <translation>Void sale</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="92"/>
        <source>Later</source>
        <translation>Later</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="93"/>
        <source>Resume</source>
        <translation>Resume</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="109"/>
        <source>1 item, %2</source>
        <translation>1 item, %2</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="111"/>
        <source>%1 items, %2</source>
        <translation>%1 items, %2</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="114"/>
        <source>Kiosk</source>
        <translation>Kiosk</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="114"/>
        <source>Counter</source>
        <translation>Counter</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="118"/>
        <source>Paid %1, %2 due</source>
        <translation>Paid %1, %2 due</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="134"/>
        <source>Already paid: %1</source>
        <translation>Already paid: %1</translation>
    </message>
    <message>
        <location filename="../screens/left_open.py" line="136"/>
        <source>Nothing paid yet.</source>
        <translation>Nothing paid yet.</translation>
    </message>
</context>
<context>
    <name>LoginScreen</name>
    <message>
        <location filename="../screens/login.py" line="46"/>
        <source>Store checkout</source>
        <translation>Store checkout</translation>
    </message>
    <message>
        <location filename="../screens/login.py" line="48"/>
        <source>Enter your PIN to start</source>
        <translation>Enter your PIN to start</translation>
    </message>
</context>
<context>
    <name>ManagerScreen</name>
    <message>
        <location filename="../screens/manager.py" line="359"/>
        <source>Day close</source>
        <translation>Day close</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="360"/>
        <source>Z report</source>
        <translation>Z report</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="361"/>
        <source>Refunds and voids</source>
        <translation>Refunds and voids</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="362"/>
        <source>Offline card queue</source>
        <translation>Offline card queue</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="363"/>
        <source>Risk decisions</source>
        <translation>Risk decisions</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="364"/>
        <source>Sync</source>
        <translation>Sync</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="365"/>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="369"/>
        <source>Back to the till</source>
        <translation>Back to the till</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="370"/>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
</context>
<context>
    <name>ParkedDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="105"/>
        <source>Parked sales</source>
        <translation>Parked sales</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="109"/>
        <source>1 item, %2</source>
        <translation>1 item, %2</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="111"/>
        <source>%1 items, %2</source>
        <translation>%1 items, %2</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="118"/>
        <source>Resume</source>
        <translation>Resume</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="120"/>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="124"/>
        <source>No sale is parked.</source>
        <translation>No sale is parked.</translation>
    </message>
</context>
<context>
    <name>PaymentDialog</name>
    <message>
        <location filename="../screens/payment.py" line="152"/>
        <source>Payment</source>
        <translation>Payment</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="157"/>
        <source>Ask the shopper to scan this code with %1.</source>
        <translation>Ask the shopper to scan this code with %1.</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="160"/>
        <source>The shopper is confirming the payment on their phone…</source>
        <translation>The shopper is confirming the payment on their phone…</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="163"/>
        <source>Cancel payment</source>
        <translation>Cancel payment</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="164"/>
        <source>Close</source>
        <translation>Close</translation>
    </message>
    <message>
        <location filename="../screens/payment.py" line="211"/>
        <source>Code valid for %1</source>
        <translation>Code valid for %1</translation>
    </message>
</context>
<context>
    <name>QuantityDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="31"/>
        <source>Quantity</source>
        <translation>Quantity</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="41"/>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="43"/>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="46"/>
        <source>Quantity (0 removes the line)</source>
        <translation>Quantity (0 removes the line)</translation>
    </message>
</context>
<context>
    <name>ReceiptDialog</name>
    <message>
        <location filename="../screens/dialogs.py" line="151"/>
        <source>Receipt</source>
        <translation>Receipt</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="153"/>
        <source>Paid. Receipt %1</source>
        <translation>Paid. Receipt %1</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="157"/>
        <source>Change: %1</source>
        <translation>Change: %1</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="164"/>
        <source>Print</source>
        <translation>Print</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="170"/>
        <source>No receipt printer is set up (Manager → Settings).</source>
        <translation>No receipt printer is set up (Manager → Settings).</translation>
    </message>
    <message>
        <location filename="../screens/dialogs.py" line="172"/>
        <source>New sale</source>
        <translation>New sale</translation>
    </message>
</context>
<context>
    <name>RefundScreen</name>
    <message>
        <location filename="../screens/refund.py" line="75"/>
        <source>Refund from a receipt</source>
        <translation>Refund from a receipt</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="76"/>
        <source>Scan or type the receipt number</source>
        <translation>Scan or type the receipt number</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="77"/>
        <source>Find sale</source>
        <translation>Find sale</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="78"/>
        <source>Or refund an amount:</source>
        <translation>Or refund an amount:</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="79"/>
        <source>Reason:</source>
        <translation>Reason:</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="80"/>
        <source>Refund (manager PIN)</source>
        <translation>Refund (manager PIN)</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="81"/>
        <source>Back</source>
        <translation>Back</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="119"/>
        <source>Receipt %1 · paid %2 · refundable %3</source>
        <translation>Receipt %1 · paid %2 · refundable %3</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="144"/>
        <source>Refunded: %1</source>
        <translation>Refunded: %1</translation>
    </message>
    <message>
        <location filename="../screens/refund.py" line="148"/>
        <source>Refund: %1</source>
        <translation>Refund: %1</translation>
    </message>
</context>
<context>
    <name>TableView</name>
    <message>
        <location filename="../screens/manager.py" line="63"/>
        <source>Nothing here yet.</source>
        <translation>Nothing here yet.</translation>
    </message>
</context>
<context>
    <name>TenderPanel</name>
    <message>
        <location filename="../screens/tender.py" line="96"/>
        <source>Amount due</source>
        <translation>Amount due</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="97"/>
        <source>Scan the shopper&apos;s payment code to take it at once.</source>
        <translation>Scan the shopper&apos;s payment code to take it at once.</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="98"/>
        <source>Pay part (split tender):</source>
        <translation>Pay part (split tender):</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="99"/>
        <source>all that is due</source>
        <translation>all that is due</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="100"/>
        <source>Cash received</source>
        <translation>Cash received</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="101"/>
        <source>Take
cash</source>
        <translation>Take
cash</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="102"/>
        <source>Back to the cart</source>
        <translation>Back to the cart</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="123"/>
        <source>%1 QR</source>
        <translation>%1 QR</translation>
    </message>
    <message>
        <location filename="../screens/tender.py" line="175"/>
        <source>Change: %1</source>
        <translation>Change: %1</translation>
    </message>
</context>
<context>
    <name>TotalsPanel</name>
    <message>
        <location filename="../screens/cart.py" line="122"/>
        <source>Subtotal</source>
        <translation>Subtotal</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="123"/>
        <source>Discount</source>
        <translation>Discount</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="124"/>
        <source>Tax included</source>
        <translation>Tax included</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="125"/>
        <source>Paid</source>
        <translation>Paid</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="126"/>
        <source>Due</source>
        <translation>Due</translation>
    </message>
    <message>
        <location filename="../screens/cart.py" line="130"/>
        <source>Total</source>
        <translation>Total</translation>
    </message>
</context>
<context>
    <name>ZReportTab</name>
    <message>
        <location filename="../screens/manager.py" line="296"/>
        <source>%1 · %2 sales · gross %3 · refunds %4 · net %5</source>
        <translation>%1 · %2 sales · gross %3 · refunds %4 · net %5</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="308"/>
        <source>Sales by hour</source>
        <translation>Sales by hour</translation>
    </message>
    <message>
        <location filename="../screens/manager.py" line="310"/>
        <source>Sales by channel</source>
        <translation>Sales by channel</translation>
    </message>
</context>
</TS>

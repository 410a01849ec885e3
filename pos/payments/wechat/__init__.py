"""WeChat Pay: API v3 Native (QR) payments and refunds, v2 micropay (payment code)."""

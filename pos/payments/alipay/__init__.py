"""Alipay face-to-face payment over the OpenAPI gateway (RSA2)."""

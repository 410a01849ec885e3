"""Loopback gateway simulators that speak Alipay's and WeChat Pay's real wire
protocols, for the demo and the tests. Not used in production."""

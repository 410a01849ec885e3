"""Thin screens: each draws a flow's snapshot and turns a touch into one flow
call, run as an operation off the UI thread."""

"""Store checkout core: plain Python, no Qt, no hardware, no web server."""

#!/usr/bin/env python3
"""Echo server on uvloop: echo_asyncio.py's protocol on uvloop's loop.

Usage: python3 echo_uvloop.py PORT. Prints "listening PORT" when ready;
exits cleanly on SIGTERM or SIGINT.
"""
import os
import sys

import uvloop

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import echo_asyncio  # noqa: E402

if __name__ == "__main__":
    echo_asyncio.main(uvloop.new_event_loop)

#!/usr/bin/env python3
"""The BROWSER of run.py's sign-ins: opens the sign-in URL at an auto-approving stand-in and follows its
redirect to the tool's loopback callback, as a browser would. Never through a proxy."""

import sys
import urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(sys.argv[1], timeout=30) as page:
    page.read()

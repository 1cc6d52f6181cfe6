#!/usr/bin/env python3
"""Serves the files of a folder on 127.0.0.1, holding every answer back by a fixed
latency, so that `imgpar bench` on a URL list measures the I/O-bound case.

    python3 benches/slow_server.py DIR [PORT] [LATENCY_MS] [HOST]

Prints nothing; stop it with Ctrl-C. Each request is answered on its own thread.
"""

import functools
import http.server
import sys
import time


class SlowHandler(http.server.SimpleHTTPRequestHandler):
    latency_s = 0.1

    def do_GET(self):
        time.sleep(self.latency_s)
        super().do_GET()

    def log_message(self, *args):
        pass


def main():
    folder = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8765
    SlowHandler.latency_s = (int(sys.argv[3]) if len(sys.argv) > 3 else 100) / 1000
    handler = functools.partial(SlowHandler, directory=folder)
    # The default backlog of 5 would make concurrent clients wait for SYN retries.
    http.server.ThreadingHTTPServer.request_queue_size = 256
    host = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()

"""What the loopback provider fakes share (fake_openai.py, fake_anthropic.py):
a threaded HTTP server bound to 127.0.0.1 only, and the way they run.

Standard library only. `serve` prints "PORT <n>" as the first line on
stdout, then nothing else there, and exits when its stdin closes (the test
that started it is gone) or after `timeout` seconds, whichever comes first.
"""

import os
import sys
import threading
import time
from http.server import ThreadingHTTPServer

LOOPBACK = "127.0.0.1"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler):
        super().__init__((LOOPBACK, 0), handler)
        assert self.server_address[0] == LOOPBACK

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer is what several tests do.
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def serve(server, timeout):
    def stop_on_eof():
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        os._exit(0)

    def stop_on_timeout():
        time.sleep(timeout)
        os._exit(0)

    threading.Thread(target=stop_on_eof, daemon=True).start()
    threading.Thread(target=stop_on_timeout, daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    # Nothing else goes to stdout: the reader may have closed its end.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    os._exit(0)

"""hook_receiver.py - a webhook's receiving end for notify.sh: answers the
first FAIL_FIRST posts with 500 (so the sender must retry), then 200;
appends each post as one JSON line {status, body, headers, time} to LOG.
With FAIL_FIRST -1 it never answers (a webhook that hangs).

    python3 hook_receiver.py PORT_FILE LOG FAIL_FIRST
"""
import http.server
import json
import sys
import time

port_file, log, fail_first = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = 0


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        seen += 1
        if fail_first < 0:
            with open(log, "a") as f:
                f.write(json.dumps({"status": None, "body": body, "time": time.time()}) + "\n")
            time.sleep(60)
            return
        status = 500 if seen <= fail_first else 200
        with open(log, "a") as f:
            f.write(json.dumps({"status": status, "body": body, "time": time.time(),
                                "type": self.headers.get("Content-Type")}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
with open(port_file, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()

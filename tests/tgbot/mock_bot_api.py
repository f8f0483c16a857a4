#!/usr/bin/env python3
"""A mock of the Telegram Bot API for tgbot's tests (loopback only).

Implements what the bot uses: POST /bot<TOKEN>/getUpdates (offset, timeout;
long polls up to `max_wait_s`) and POST /bot<TOKEN>/sendMessage. A wrong token
gets 401 like the real API; `fail_calls` makes chosen getUpdates calls (1-based)
answer 500, to test the bot's backoff.

    mock = MockBotApi(token="123:ABC", updates=[...], fail_calls={2})
    port = mock.start()          # 127.0.0.1:<port>
    ... mock.sent, mock.polls ...
    mock.stop()

Standalone: mock_bot_api.py TOKEN UPDATES.jsonl prints the port and serves
until interrupted.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MockBotApi:
    def __init__(self, token, updates=(), fail_calls=(), max_wait_s=0.5):
        self.token = token
        self.updates = list(updates)  # Update objects, each with update_id
        self.fail_calls = set(fail_calls)
        self.max_wait_s = max_wait_s
        self.sent = []    # sendMessage bodies
        self.polls = []   # getUpdates bodies, in order
        self.unauthorized = 0
        self.lock = threading.Lock()
        self.server = None

    def add_update(self, update):
        with self.lock:
            self.updates.append(update)

    def start(self):
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot went away mid-answer (it is shutting down)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self.reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: bad JSON"})
                parts = self.path.split("/")
                if len(parts) != 3 or not parts[1].startswith("bot"):
                    return self.reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                token, method = parts[1][3:], parts[2]
                if token != mock.token:
                    with mock.lock:
                        mock.unauthorized += 1
                    return self.reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                if method == "sendMessage":
                    with mock.lock:
                        mock.sent.append(body)
                    return self.reply(200, {"ok": True, "result": {"message_id": len(mock.sent)}})
                if method == "getUpdates":
                    with mock.lock:
                        mock.polls.append(body)
                        call = len(mock.polls)
                    if call in mock.fail_calls:
                        return self.reply(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
                    offset = body.get("offset", 0)
                    deadline = time.time() + min(float(body.get("timeout", 0)), mock.max_wait_s)
                    while True:
                        with mock.lock:
                            ready = [u for u in mock.updates if u["update_id"] >= offset]
                        if ready or time.time() >= deadline:
                            return self.reply(200, {"ok": True, "result": ready})
                        time.sleep(0.02)
                return self.reply(404, {"ok": False, "error_code": 404, "description": "Not Found: method"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server.server_address[1]

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: mock_bot_api.py TOKEN UPDATES.jsonl")
    with open(sys.argv[2]) as f:
        ups = [json.loads(l) for l in f if l.strip()]
    m = MockBotApi(sys.argv[1], ups)
    print(m.start(), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        m.stop()

#!/usr/bin/env python3
"""A loopback mock of the venue for polyhost's live tests.

Serves the CLOB market-channel websocket, REST GET /book?token_id=, and Gamma
GET /markets (limit <= 100, an offset cap like the venue's), driven by a JSON
scenario:

  {
    "connections": [[action, ...], ...],  # per websocket connection, in order;
                                          # connections past the list use the last
    "books": {"<token id>": {"market": "0x..", "bids": [...], "asks": [...], "timestamp": "1"}},
    "markets": [<Gamma market object>, ...],
    "offset_cap": 1000                    # /markets answers 422 past this offset
  }

Actions (after the client's subscription message has arrived):
  {"send": <JSON value>}     one text frame (a string is sent as bare text)
  {"send_file": "path"}      every line of a recording, as frames ({"frame": ...} envelopes unwrapped)
  {"sleep_ms": n}
  {"drop": true}             close the TCP connection without a close frame
  {"close": true}            close with a close frame
  {"wait_books": n}          wait until /book has been served n times in total
  {"send_big": n}            one text frame of n bytes (a JSON object padded with "x")
  {"mute": true}             stop reading and answering PING: a half-open connection
  (after the last action the connection stays open; PING is answered with PONG)

Prints "READY <ws port> <http port>" on stdout once listening. Every websocket
message received and every HTTP request is appended to --log as a JSON line.
"""
import argparse
import asyncio
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets

log_lock = threading.Lock()
state = {"books_served": 0, "connections": 0}
muted = set()  # connections that no longer read (half-open)


def log(path, obj):
    if not path:
        return
    with log_lock:
        with open(path, "a") as f:
            f.write(json.dumps(obj) + "\n")


def make_http_handler(scenario, log_path):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            log(log_path, {"http": url.path, "query": q})
            if url.path == "/book":
                token = q.get("token_id", "")
                book = scenario.get("books", {}).get(token)
                with log_lock:
                    state["books_served"] += 1
                if book is None:
                    return self.reply(404, json.dumps({"error": "No orderbook exists for the requested token id"}))
                body = {"market": book.get("market", ""), "asset_id": token,
                        "timestamp": book.get("timestamp", "0"), "hash": "0xmock",
                        "bids": book.get("bids", []), "asks": book.get("asks", []),
                        "min_order_size": "5", "tick_size": "0.01", "neg_risk": False}
                return self.reply(200, json.dumps(body))
            if url.path == "/markets":
                markets = scenario.get("markets", [])
                try:
                    limit = int(q.get("limit", "20"))
                    offset = int(q.get("offset", "0"))
                except ValueError:
                    return self.reply(400, '{"error":"bad limit/offset"}')
                if limit > 100:
                    return self.reply(422, '{"error":"limit must be <= 100"}')
                if offset > scenario.get("offset_cap", 1 << 30):
                    return self.reply(422, '{"error":"offset too large"}')
                if q.get("active") == "true":
                    markets = [m for m in markets if m.get("active")]
                if q.get("closed") == "false":
                    markets = [m for m in markets if not m.get("closed")]
                if q.get("order") == "endDate":
                    markets = sorted(markets, key=lambda m: m.get("endDate") or "")
                    if "end_date_min" in q:
                        markets = [m for m in markets if (m.get("endDate") or "") >= q["end_date_min"]]
                return self.reply(200, json.dumps(markets[offset:offset + limit]))
            return self.reply(404, '{"error":"not found"}')

    return Handler


async def run_actions(ws, actions, log_path, conn):
    for a in actions:
        if "send" in a:
            v = a["send"]
            await ws.send(v if isinstance(v, str) else json.dumps(v))
        elif "send_file" in a:
            with open(a["send_file"]) as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    v = json.loads(line)
                    if isinstance(v, dict) and "frame" in v:
                        v = v["frame"]
                    await ws.send(v if isinstance(v, str) else json.dumps(v))
        elif "sleep_ms" in a:
            await asyncio.sleep(a["sleep_ms"] / 1000.0)
        elif a.get("drop"):
            ws.transport.abort()
            return False
        elif a.get("close"):
            await ws.close()
            return False
        elif "send_big" in a:
            head = '{"event_type":"book","pad":"'
            await ws.send(head + "x" * max(a["send_big"] - len(head) - 2, 0) + '"}')
        elif a.get("mute"):
            muted.add(conn)
        elif "wait_books" in a:
            while state["books_served"] < a["wait_books"]:
                await asyncio.sleep(0.01)
    return True


async def main_async(args, scenario):
    async def handler(ws, path=None):
        conn = state["connections"]
        state["connections"] += 1
        plans = scenario.get("connections", [[]])
        actions = plans[min(conn, len(plans) - 1)] if plans else []
        first = await ws.recv()
        log(args.log, {"conn": conn, "msg": first})
        reader_done = asyncio.Event()

        async def reader():
            try:
                async for msg in ws:
                    while conn in muted:
                        await asyncio.sleep(3600)
                    log(args.log, {"conn": conn, "msg": msg})
                    if msg == "PING":
                        await ws.send("PONG")
            except Exception:
                pass
            reader_done.set()

        task = asyncio.ensure_future(reader())
        try:
            if await run_actions(ws, actions, args.log, conn):
                await reader_done.wait()
        except Exception:
            pass
        task.cancel()

    tls = None
    if args.tls_cert:
        import ssl
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    server = await websockets.serve(handler, "127.0.0.1", args.ws_port, max_size=None, ping_interval=None, ssl=tls)
    ws_port = server.sockets[0].getsockname()[1]
    httpd = ThreadingHTTPServer(("127.0.0.1", args.http_port), make_http_handler(scenario, args.log))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"READY {ws_port} {httpd.server_address[1]}", flush=True)
    await asyncio.Future()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", required=True)
    p.add_argument("--log", default="")
    p.add_argument("--ws-port", type=int, default=0)
    p.add_argument("--http-port", type=int, default=0)
    p.add_argument("--tls-cert", default="", help="serve wss:// with this certificate (PEM)")
    p.add_argument("--tls-key", default="")
    args = p.parse_args()
    with open(args.scenario) as f:
        scenario = json.load(f)
    try:
        asyncio.run(main_async(args, scenario))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

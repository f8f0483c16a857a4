#!/usr/bin/env python3
"""A mock Polymarket CLOB for the real relayer's tests (stdlib only).

  mock_clob.py --log FILE [--api-key K --secret S --passphrase P] [--address A]
               [--version N] [--reject MESSAGE] [--reject-status N] [--page-size N]

Prints its port on the first line of stdout, then serves until killed. Every
request is appended to --log as one JSON line: method, path, query, the POLY_*
headers, body, the monotonic time, and what the mock checked:
  auth_ok  - the five L2 headers are present, key and passphrase match, and
             POLY_SIGNATURE is the HMAC of timestamp + METHOD + path + body
  shape_ok - POST /order: the exact V2 body (key order, types, compact JSON)
  l1_ok    - POST /auth/api-key, GET /auth/derive-api-key: the four L1 headers
             are present and well-formed (address as --address, a 65-byte
             signature, a recent timestamp, a numeric nonce); the EIP-712
             signature itself is checked bit for bit by the C++ unit tests
Endpoints: GET /version, POST /order, DELETE /order, DELETE /cancel-all,
GET /data/orders (paged with next_cursor), POST /auth/api-key and
GET /auth/derive-api-key (answer --api-key/--secret/--passphrase). With --reject, POST /order answers
--reject-status (default 400) with {"error": MESSAGE}.
"""
import argparse, base64, hashlib, hmac, json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

ORDER_KEYS = ["salt", "maker", "signer", "tokenId", "makerAmount", "takerAmount", "side", "signatureType",
              "expiration", "timestamp", "metadata", "builder", "signature"]
L2_HEADERS = ["POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP", "POLY_API_KEY", "POLY_PASSPHRASE"]
L1_HEADERS = ["POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP", "POLY_NONCE"]
L1_PATHS = {("POST", "/auth/api-key"), ("GET", "/auth/derive-api-key")}


def l2_signature(secret, timestamp, method, path, body):
    key = base64.urlsafe_b64decode(secret)
    msg = (timestamp + method + path + body).encode()
    return base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def check_order_shape(body, api_key):
    """Returns '' when the body is exactly what the CLOB expects, else why not."""
    try:
        doc = json.loads(body)
    except ValueError as e:
        return f"not JSON: {e}"
    if json.dumps(doc, separators=(",", ":"), ensure_ascii=False) != body:
        return "not compact JSON in canonical form"
    if list(doc.keys()) != ["order", "owner", "orderType"]:
        return f"top-level keys {list(doc.keys())}"
    o = doc["order"]
    if list(o.keys()) != ORDER_KEYS:
        return f"order keys {list(o.keys())}"
    if not isinstance(o["salt"], int) or not (0 <= o["salt"] < 2**53):
        return "salt must be an integer below 2^53"
    for k in ["tokenId", "makerAmount", "takerAmount", "expiration", "timestamp"]:
        if not isinstance(o[k], str) or not o[k].isdigit():
            return f"{k} must be a decimal string"
    for k in ["maker", "signer"]:
        if not (isinstance(o[k], str) and len(o[k]) == 42 and o[k] == o[k].lower() and o[k].startswith("0x")):
            return f"{k} must be a lower-case address"
    if o["side"] not in ("BUY", "SELL"):
        return "side must be BUY or SELL"
    if o["signatureType"] not in (0, 1, 2, 3):
        return "bad signatureType"
    if not (isinstance(o["signature"], str) and o["signature"].startswith("0x") and len(o["signature"]) == 132):
        return "signature must be 65 bytes of hex"
    if doc["owner"] != api_key:
        return "owner is not the API key"
    if doc["orderType"] not in ("GTC", "GTD", "FOK", "FAK"):
        return "bad orderType"
    return ""


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.orders = {}  # id -> open order
        self.log = open(args.log, "a", buffering=1)


def make_handler(state):
    a = state.args

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, doc):
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self):
            url = urlsplit(self.path)
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode() if n else ""
            method = self.command
            poly = {h: self.headers.get(h) for h in L2_HEADERS + ["POLY_NONCE"] if self.headers.get(h) is not None}
            auth_ok = None
            if (method, url.path) in L1_PATHS:
                sig = poly.get("POLY_SIGNATURE") or ""
                auth_ok = (all(h in poly for h in L1_HEADERS) and "POLY_API_KEY" not in poly
                           and (not a.address or poly["POLY_ADDRESS"] == a.address)
                           and sig.startswith("0x") and len(sig) == 132
                           and poly["POLY_TIMESTAMP"].isdigit()
                           and abs(int(poly["POLY_TIMESTAMP"]) - time.time()) < 300
                           and poly["POLY_NONCE"].isdigit())
            elif url.path != "/version":
                auth_ok = (len(poly) == 5 and poly["POLY_API_KEY"] == a.api_key
                           and poly["POLY_PASSPHRASE"] == a.passphrase
                           and (not a.address or poly["POLY_ADDRESS"] == a.address)
                           and poly["POLY_TIMESTAMP"].isdigit()
                           and abs(int(poly["POLY_TIMESTAMP"]) - time.time()) < 300
                           and hmac.compare_digest(poly["POLY_SIGNATURE"], l2_signature(
                               a.secret, poly["POLY_TIMESTAMP"], method, url.path, body)))
            shape = check_order_shape(body, a.api_key) if (method, url.path) == ("POST", "/order") else None
            entry = {"method": method, "path": url.path, "query": url.query, "headers": poly, "body": body,
                     "t": time.monotonic(), "auth_ok": auth_ok, "shape_ok": None if shape is None else shape == "",
                     "shape_error": shape or ""}
            with state.lock:
                state.log.write(json.dumps(entry) + "\n")
                return self.route(method, url, body, auth_ok, shape)

        def route(self, method, url, body, auth_ok, shape):
            if (method, url.path) == ("GET", "/version"):
                return self.reply(200, {"version": a.version})
            if auth_ok is not True:
                return self.reply(401, {"error": "Unauthorized/Invalid api key"})
            if (method, url.path) in L1_PATHS:
                return self.reply(200, {"apiKey": a.api_key, "secret": a.secret, "passphrase": a.passphrase})
            if (method, url.path) == ("POST", "/order"):
                if shape:
                    return self.reply(400, {"error": f"invalid order payload: {shape}"})
                if a.reject:
                    return self.reply(a.reject_status, {"error": a.reject})
                doc = json.loads(body)
                oid = "0x" + hashlib.sha256(doc["order"]["signature"].encode()).hexdigest()
                kind = doc["orderType"]
                status = "matched" if kind in ("FOK", "FAK") else "live"
                if status == "live":
                    o = doc["order"]
                    state.orders[oid] = {"id": oid, "status": "LIVE", "asset_id": o["tokenId"], "side": o["side"],
                                         "market": "", "price": "", "original_size": "", "size_matched": "0"}
                return self.reply(200, {"success": True, "errorMsg": "", "orderID": oid, "transactionsHashes": [],
                                        "status": status, "takingAmount": "", "makingAmount": ""})
            if (method, url.path) == ("DELETE", "/order"):
                oid = json.loads(body)["orderID"]
                if state.orders.pop(oid, None) is None:
                    return self.reply(200, {"canceled": [], "not_canceled": {oid: "order not found"}})
                return self.reply(200, {"canceled": [oid], "not_canceled": {}})
            if (method, url.path) == ("DELETE", "/cancel-all"):
                ids = list(state.orders)
                state.orders.clear()
                return self.reply(200, {"canceled": ids, "not_canceled": {}})
            if (method, url.path) == ("GET", "/data/orders"):
                q = parse_qs(url.query)
                cursor = q.get("next_cursor", ["MA=="])[0]
                start = int(base64.b64decode(cursor).decode())
                items = [o for o in state.orders.values()
                         if not q.get("asset_id") or o["asset_id"] == q["asset_id"][0]]
                page = items[start:start + a.page_size]
                end = start + a.page_size >= len(items)
                nxt = "LTE=" if end else base64.b64encode(str(start + a.page_size).encode()).decode()
                return self.reply(200, {"data": page, "next_cursor": nxt, "limit": a.page_size, "count": len(page)})
            return self.reply(404, {"error": "not found"})

        do_GET = do_POST = do_DELETE = handle_any

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--log", required=True)
    p.add_argument("--api-key", default="test-api-key")
    p.add_argument("--secret", default="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=")
    p.add_argument("--passphrase", default="test-passphrase")
    p.add_argument("--address", default="")
    p.add_argument("--version", type=int, default=2)
    p.add_argument("--reject", default="")
    p.add_argument("--reject-status", type=int, default=400)
    p.add_argument("--page-size", type=int, default=2)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(State(args)))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

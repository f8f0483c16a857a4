#!/usr/bin/env python3
"""End-to-end tests of the tgbot plugin through the real polyhost binary.

    tgbot_test.py POLYHOST PLUGIN_DIR CASE

Every case builds a small database with `polyhost replay recordings/sample.jsonl`.
  offline_every_command       tgbot-run-local answers each command from the DB
  offline_unauthorized_chat   chats outside allowed_chat_ids get nothing, logged by id only
  offline_two_step_confirm    /cancelall asks for /confirm CODE; wrong, late and right codes
  offline_pause_survives      /pause is kept beside the DB and seen by the next run
  offline_bad_line            a line that is not JSON is named with file and line (exit 1)
  live_poll_mock              tgbot-serve against the mock Bot API: replies, a 500 mid-poll,
                              resume after restart from the state file
  live_bad_token              a 401 stops polling with a clear error; the token is never printed
  run_hosted_bot              `polyhost run --ws` (mock venue) with spread and tgbot: live /status,
                              /cancelall + /confirm cancels the open orders, /pause spread makes the
                              risk gate reject its plans (kill_switch), unauthorized chat ignored,
                              audit rows; then a restart (`run --feed --hold`) keeps the pause and
                              /resume lifts it; the token is nowhere in stdout, stderr or the DB
  offline_positions_pnl       `run --feed --hold` with spread and tgbot: live /positions and /pnl equal
                              the run summary; tgbot-run-local answers the same from the stored fills
  run_config_kill_switch      a plugin in [risk] kill_switch: the bot cannot resume it; /pause and
                              /resume of everything leave it killed; refusals are audited
  run_masks_plugin_token      the value of [plugin.tgbot] token is masked in every log line of `run`
                              (made equal to a market id the debug log names, so it must show as ***)
"""
import json
import os
import signal
import sqlite3
import urllib.request
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(REPO, "recordings", "sample.jsonl")
MOCK_VENUE = os.path.join(REPO, "tests", "live", "mock_venue.py")
sys.path.insert(0, HERE)
from mock_bot_api import MockBotApi  # noqa: E402

TOKEN = "123456:SECRET-token-value"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def run(args, expect_rc=0, timeout=60):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if expect_rc is not None and p.returncode != expect_rc:
        raise Failure("%s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s" %
                      (" ".join(args), p.returncode, expect_rc, p.stdout[-3000:], p.stderr[-3000:]))
    return p


class Env:
    def __init__(self, polyhost, plugin_dir, d):
        self.polyhost, self.plugin_dir, self.d = polyhost, plugin_dir, d
        self.db = os.path.join(d, "t.db")
        self.url = "sqlite:///" + self.db
        run([polyhost, "replay", SAMPLE, "--db-url", self.url])

    def config(self, plugin_lines, secrets=""):
        cfg = os.path.join(self.d, "polyhost.toml")
        with open(cfg, "w") as f:
            f.write('[log]\nlevel = "info"\n\n[plugins]\ndirs = ["%s"]\n\n[plugin.tgbot]\n%s\n' %
                    (self.plugin_dir, plugin_lines))
        sec = os.path.join(self.d, "secrets.local.toml")
        if secrets:
            with open(sec, "w") as f:
                f.write("[plugin.tgbot]\n" + secrets + "\n")
            os.chmod(sec, 0o600)
        elif os.path.exists(sec):
            os.remove(sec)
        return cfg

    def local(self, updates, plugin_lines="allowed_chat_ids = [42]\nconfirm_code_seed = 7", expect_rc=0):
        path = os.path.join(self.d, "updates.jsonl")
        with open(path, "w") as f:
            for u in updates:
                f.write((u if isinstance(u, str) else json.dumps(u)) + "\n")
        cfg = self.config(plugin_lines)
        p = run([self.polyhost, "tgbot-run-local", path, "mkt-1", "yes", "--db-url", self.url, "--config", cfg,
                 "--json"], expect_rc=expect_rc)
        replies = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
        return replies, p.stderr


def msg(text, chat=None, update_id=None, date=None):
    m = {"text": text}
    if chat is not None:
        m["chat"] = {"id": chat, "type": "private"}
    if date is not None:
        m["date"] = date
    u = {"message": m}
    if update_id is not None:
        u["update_id"] = update_id
    return u


def offline_every_command(env):
    cmds = ["/help", "/status", "/markets", "/book", "/book mkt-2 no", "/book mkt-1 maybe", "/orders", "/positions",
            "/pnl", "/plugins", "/pause", "/resume", "/pause spread", "/resume spread", "/metrics", "/cancelall",
            "/nonsense"]
    replies, _ = env.local([msg(c) for c in cmds])
    r = {cmds[i]: replies[i]["reply"] for i in range(len(cmds))}
    check([x["line"] for x in replies] == list(range(1, len(cmds) + 1)), "one reply per line: %r" % replies)
    check("/cancelall - cancel every order" in r["/help"], r["/help"])
    check(r["/status"].startswith("Status: running (dry run) [offline]") and "Assets: 4 (0 stale)" in r["/status"],
          r["/status"])
    # Best prices of the sample's final books, in canonical decimals.
    check("mkt-1\n  no 0.47/0.5\n  yes 0.5/0.52\nmkt-2\n  no 0.79/0.81\n  yes 0.2/0.21" in r["/markets"], r["/markets"])
    check(r["/book"].startswith("Book yes mkt-1\nasks (4 levels)\n  0.56 x 10\n  0.55 x 300\n  0.53 x 120\n  0.52 x 60\n"
                                "bids (4 levels)\n  0.5 x 30\n"), r["/book"])
    check(r["/book mkt-2 no"].startswith("Book no mkt-2\nasks (2 levels)\n  0.82 x 90\n  0.81 x 400\nbids (1 levels)\n"
                                         "  0.79 x 25"), r["/book mkt-2 no"])
    check(r["/book mkt-1 maybe"] == "Book unavailable: no book for market 'mkt-1' outcome 'maybe'",
          r["/book mkt-1 maybe"])
    check(r["/orders"] == "No open orders.", r["/orders"])
    check(r["/positions"] == "No positions.", r["/positions"])  # a replay has no fills
    check(r["/pnl"] == "No PnL yet.", r["/pnl"])
    check(r["/plugins"] == "Plugins: none", r["/plugins"])
    check(r["/pause"] == "Paused all plugins." and r["/resume"] == "Resumed all plugins.", (r["/pause"], r["/resume"]))
    check(r["/pause spread"] == "Paused spread." and r["/resume spread"] == "Resumed spread.", r["/pause spread"])
    check("events: 29" in r["/metrics"] and "assets: 4" in r["/metrics"], r["/metrics"])
    check(r["/cancelall"].startswith("Cancel ALL open orders of every plugin?\nSend /confirm "), r["/cancelall"])
    check(r["/nonsense"] == "Unknown command /nonsense. Send /help.", r["/nonsense"])


def offline_unauthorized_chat(env):
    replies, err = env.local([msg("/status", chat=42, update_id=1), msg("/status hunter2", chat=99, update_id=2),
                              {"update_id": 3, "message": {"chat": {"id": 42}}}])
    check(replies[0]["reply"].startswith("Status:"), replies)
    check(replies[1]["reply"] is None and replies[2]["reply"] is None, replies)
    check("ignored a message from chat 99 (not in allowed_chat_ids)" in err, err)
    check("hunter2" not in err, "the ignored message's text was logged")
    # Without allowed chats, a chat-addressed update gets nothing either.
    replies, _ = env.local([msg("/help", chat=42)], plugin_lines="")
    check(replies[0]["reply"] is None, replies)


def offline_two_step_confirm(env):
    t = 1_763_000_000
    replies, err = env.local([msg("/confirm 1234", 42, 1, t), msg("/cancelall", 42, 2, t),
                              msg("/confirm 0000", 42, 3, t + 1), msg("/cancelall", 42, 4, t + 2),
                              msg("/confirm CODE", 42, 5, t + 40), msg("/cancelall", 42, 6, t + 50)])
    r = [x["reply"] for x in replies]
    check(r[0] == "Nothing to confirm. Send /cancelall first.", r[0])
    check(r[2] == "Wrong code; nothing cancelled. Send /cancelall again.", r[2])
    check(r[4] == "Code expired; nothing cancelled. Send /cancelall again.", r[4])
    check("requests cancel-all" not in err, "the host was asked before a valid confirmation")
    code = r[5].split("/confirm ")[1].split()[0]
    check(len(code) == 4 and code.isdigit(), r[5])
    # Now confirm in time (same seed: the same sequence of codes).
    replies, err = env.local([msg("/cancelall", 42, 1, t), msg("/cancelall", 42, 2, t),
                              msg("/cancelall", 42, 3, t + 2), msg("/cancelall", 42, 4, t + 50)])
    code = replies[3]["reply"].split("/confirm ")[1].split()[0]
    replies, err = env.local([msg("/cancelall", 42, 1, t), msg("/cancelall", 42, 2, t), msg("/cancelall", 42, 3, t),
                              msg("/cancelall", 42, 4, t), msg("/confirm " + code, 42, 5, t + 29)])
    check(replies[4]["reply"] == "Cancel-all refused: PH_ERR_UNSUPPORTED", replies[4])
    check("control: plugin 'tgbot' requests cancel-all (reason: /cancelall confirmed by chat 42) -> "
          "PH_ERR_UNSUPPORTED" in err, err)


def offline_pause_survives(env):
    env.local([msg("/pause spread")])
    with open(env.db + ".control.json") as f:
        check(json.load(f) == {"all": False, "plugins": ["spread"]}, "pause file")
    replies, _ = env.local([msg("/status"), msg("/plugins"), msg("/resume spread"), msg("/plugins")])
    check("Paused plugins: spread" in replies[0]["reply"], replies[0])
    check(replies[1]["reply"] == "Plugins:\nspread: not loaded, paused", replies[1])
    check(replies[3]["reply"] == "Plugins: none", replies[3])


def offline_bad_line(env):
    replies, err = env.local([msg("/help"), "{not json"], expect_rc=1)
    check(len(replies) == 1, replies)
    check("updates.jsonl:2: not a JSON object" in err, err)


def serve(env, cfg, seconds):
    return subprocess.Popen([env.polyhost, "tgbot-serve", "--db-url", env.url, "--config", cfg, "--for-s",
                             str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(cond, seconds, what):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise Failure("timed out waiting for " + what)


def signal_and_wait(p, sig, timeout=30):
    """Sends `sig` to `p` and waits for it: (stdout, stderr)."""
    p.send_signal(sig)
    return p.communicate(timeout=timeout)


def kill_if_running(p):
    """Cleanup after a failed check: a process still running is killed."""
    if p.poll() is None:
        p.kill()
        p.communicate()


def live_poll_mock(env):
    mock = MockBotApi(TOKEN, [msg("/status", 42, 1), msg("/help", 99, 2), msg("/book mkt-1 yes", 42, 3)],
                      fail_calls={2})
    port = mock.start()
    state = os.path.join(env.d, "tgbot.state.json")
    plugin = ('allowed_chat_ids = [42]\nbase_url = "http://127.0.0.1:%d"\npoll_timeout_s = 1\n'
              'backoff_min_ms = 100\nalert_interval_s = 0\nstate_file = "%s"' % (port, state))
    cfg = env.config(plugin, secrets='token = "%s"' % TOKEN)
    try:
        p = serve(env, cfg, 60)
        # Both replies sent, then a poll that confirms update 3.
        wait_for(lambda: len(mock.sent) >= 2 and any(b.get("offset") == 4 for b in mock.polls), 20, "replies")
        out, err = signal_and_wait(p, signal.SIGTERM, timeout=20)
        check(p.returncode == 0, "tgbot-serve exited %d\n%s" % (p.returncode, err))
        check([m["chat_id"] for m in mock.sent] == [42, 42], mock.sent)
        check(mock.sent[0]["text"].startswith("Status: running"), mock.sent[0])
        check(mock.sent[1]["text"].startswith("Book yes mkt-1\nasks (4 levels)"), mock.sent[1])
        check("getUpdates failed (HTTP 500); retrying in 100 ms" in err, err)
        check(mock.polls[0].get("offset") is None and mock.polls[0]["timeout"] == 1, mock.polls[0])
        check("ignored a message from chat 99" in err, err)
        check(TOKEN not in out + err and "SECRET" not in out + err, "the token was printed")
        with open(state) as f:
            check(json.load(f) == {"last_update_id": 3}, "state file")
        # Restart: resumes after update 3; only the new update is answered.
        mock.add_update(msg("/orders", 42, 4))
        polls_before = len(mock.polls)
        p = serve(env, cfg, 60)
        wait_for(lambda: len(mock.sent) >= 3, 20, "the reply after restart")
        out, err = signal_and_wait(p, signal.SIGTERM, timeout=20)
        check(p.returncode == 0, err)
        check(mock.polls[polls_before].get("offset") == 4, mock.polls[polls_before:])
        check(len(mock.sent) == 3 and mock.sent[2]["text"] == "No open orders.", mock.sent)
    finally:
        mock.stop()


def live_bad_token(env):
    mock = MockBotApi("999:the-right-one", [msg("/status", 42, 1)])
    port = mock.start()
    plugin = ('allowed_chat_ids = [42]\nbase_url = "http://127.0.0.1:%d"\npoll_timeout_s = 1\nalert_interval_s = 0'
              % port)
    cfg = env.config(plugin, secrets='token = "%s"' % TOKEN)
    try:
        p = serve(env, cfg, 3)
        out, err = p.communicate(timeout=30)
        check(p.returncode == 0, err)
        check(mock.unauthorized == 1, "polled %d times with a refused token" % mock.unauthorized)
        check("refused the token (HTTP 401); polling stopped" in err, err)
        check(mock.sent == [], mock.sent)
        check(TOKEN not in out + err and "SECRET" not in out + err, "the token was printed")
    finally:
        mock.stop()


# ---- polyhost run hosting the bot --------------------------------------------------

MARKET, YES, NO = "0xmkt", "1111", "2222"


def venue_book(asset, bid, ask, ts):
    return {"event_type": "book", "market": MARKET, "asset_id": asset, "timestamp": ts,
            "bids": [{"price": bid, "size": "500"}], "asks": [{"price": ask, "size": "500"}]}


class Venue:
    """tests/live/mock_venue.py: REST /book for the resync, then websocket frames.
    The second batch of frames waits until /book was served GATE times in all:
    the test releases it by fetching /book itself (release()); the run's own
    resyncs stay far below."""
    GATE = 200

    def __init__(self, d, first, second):
        rest = {YES: {"market": MARKET, "timestamp": "5", "bids": [{"price": "0.45", "size": "500"}],
                      "asks": [{"price": "0.55", "size": "500"}]},
                NO: {"market": MARKET, "timestamp": "5", "bids": [{"price": "0.45", "size": "500"}],
                     "asks": [{"price": "0.55", "size": "500"}]}}
        actions = [{"wait_books": 2}] + [{"send": f} for f in first] + [{"wait_books": self.GATE}] + \
                  [{"send": f} for f in second]
        path = os.path.join(d, "scenario.json")
        with open(path, "w") as f:
            json.dump({"books": rest, "connections": [actions]}, f)
        self.proc = subprocess.Popen([sys.executable, MOCK_VENUE, "--scenario", path], stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().split()
        check(line and line[0] == "READY", "mock venue did not start")
        self.ws = "ws://127.0.0.1:%s/ws/market" % line[1]
        self.http = "http://127.0.0.1:%s" % line[2]

    def release(self):
        for _ in range(self.GATE):
            urllib.request.urlopen(self.http + "/book?token_id=" + NO, timeout=10).read()

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Chat:
    """Sends updates through the mock Bot API and waits for the bot's replies."""

    def __init__(self, mock):
        self.mock, self.next_id, self.date = mock, 1, 1_763_000_000

    def say(self, text, chat=42, expect_reply=True):
        before = len(self.mock.sent)
        self.mock.add_update(msg(text, chat, self.next_id, self.date))
        self.next_id += 1
        self.date += 1
        if not expect_reply:
            return None
        # Alerts ("ALERT: ...", "Fill: ...") may arrive in between: the reply is the first other message.
        def replies():
            return [m["text"] for m in self.mock.sent[before:] if not m["text"].startswith(("ALERT: ", "Fill: "))]
        wait_for(lambda: replies(), 20, "a reply to " + text)
        return replies()[0]

    def until(self, text, pred, seconds=20):
        end = time.time() + seconds
        reply = None
        while time.time() < end:
            reply = self.say(text)
            if pred(reply):
                return reply
            time.sleep(0.2)
        raise Failure("no reply to %s satisfied the test; last: %r" % (text, reply))


def bot_config(env, port, extra=""):
    plugin = ('allowed_chat_ids = [42]\nbase_url = "http://127.0.0.1:%d"\npoll_timeout_s = 1\nbackoff_min_ms = 100\n'
              'alert_interval_s = 1\nalert_cooldown_s = 1\nconfirm_code_seed = 7\nstate_file = "%s"\n%s'
              % (port, os.path.join(env.d, "tgbot.state.json"), extra))
    cfg = env.config(plugin, secrets='token = "%s"' % TOKEN)
    with open(cfg, "a") as f:
        f.write('\n[plugin.spread]\nassets = ["%s/%s", "mkt-1/yes"]\nhalf_spread_ticks = 2\norder_size = 10\n'
                % (MARKET, YES))
    return cfg


def start_bot(env):
    """A mock Bot API, a config (bot_config) pointing tgbot at it and a chat to talk through it."""
    mock = MockBotApi(TOKEN)
    cfg = bot_config(env, mock.start())
    return mock, cfg, Chat(mock)


def run_feed_held(env, cfg, *extra):
    """`polyhost run` of the sample with spread and tgbot on the paper relayer, held open after the feed."""
    return subprocess.Popen([env.polyhost, "run", "--feed", SAMPLE, "--plugins", "spread,tgbot", "--relayer", "paper",
                             "--db-url", env.url, "--config", cfg, *extra, "--hold"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def spread_summary(out):
    """spread's entry in the run's --json summary (the last line of stdout)."""
    summary = json.loads(out.strip().splitlines()[-1])
    return [x for x in summary["plugins"] if x["name"] == "spread"][0]


def no_token_anywhere(env, texts):
    for t in texts:
        check(TOKEN not in t and "SECRET-token" not in t, "the token was printed")
    for suffix in ("", "-wal", ".control.json"):
        path = env.db + suffix
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            check(TOKEN.encode() not in data and b"SECRET-token" not in data, "the token is in " + path)


def run_hosted_bot(env):
    os.remove(env.db)  # a fresh database for the run
    mock, cfg, chat = start_bot(env)
    # After the pause: the YES mid moves, so spread wants to requote.
    venue = Venue(env.d, [], [venue_book(YES, "0.50", "0.60", "10"), venue_book(YES, "0.52", "0.62", "11")])
    run_cmd = [env.polyhost, "run", "--ws", venue.ws, "--clob-url", venue.http, "--market", MARKET, "--assets",
               "%s,%s" % (YES, NO), "--plugins", "spread,tgbot", "--relayer", "paper", "--db-url", env.url,
               "--config", cfg, "--json", "--log-level", "debug"]
    p = subprocess.Popen(run_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Live numbers: the resynced books and spread's quotes, from the running session.
        status = chat.until("/status", lambda r: "Open orders: 0 " not in r and "Assets: 2 (0 stale)" in r)
        check(status.startswith("Status: running (dry run) [run, live]"), status)
        check("Plugins: 2 active, 0 failed" in status, status)
        open_orders = int(status.split("Open orders: ")[1].split()[0])
        check(open_orders >= 1 and ", 0 rejected" in status, status)
        orders = chat.say("/orders")
        check(orders.startswith("Open orders: %d" % open_orders) and "spread BUY 10 @ 0.4" in orders, orders)
        book = chat.say("/book %s %s" % (MARKET, YES))
        check(book.startswith("Book 1111 0xmkt\nasks (1 levels)\n  0.55 x 500\nbids (1 levels)\n  0.45 x 500"), book)
        # Someone else's chat gets nothing.
        chat.say("/cancelall", chat=99, expect_reply=False)
        # Cancel-all needs the code.
        ask = chat.say("/cancelall")
        code = ask.split("/confirm ")[1].split()[0]
        check(chat.say("/confirm " + code) == "Cancel-all requested.", "confirm")
        check(chat.say("/orders") == "No open orders.", "orders after cancel-all")
        check(chat.say("/pause spread") == "Paused spread.", "pause")
        check(chat.say("/pause ghost").startswith("Pause of ghost refused"), "pause of an unknown plugin")
        with open(env.db + ".control.json") as f:
            check(json.load(f) == {"all": False, "plugins": ["spread"]}, "pause file")
        plugins = chat.say("/plugins")
        check(plugins == "Plugins:\nspread: active, paused\ntgbot: active", plugins)
        venue.release()
        status = chat.until("/status", lambda r: "rejected" in r and "0 rejected" not in r)
        check("Paused plugins: spread" in status, status)
        wait_for(lambda: any(m["text"].startswith("ALERT: risk gate rejected") for m in mock.sent), 10,
                 "the risk reject alert")
        out, err = signal_and_wait(p, signal.SIGINT)
    finally:
        kill_if_running(p)
        venue.stop()
    check(p.returncode == 0, "run exited %d\n%s" % (p.returncode, err[-3000:]))
    spread = spread_summary(out)
    check(spread["rejects_by_reason"].get("kill_switch", 0) >= 1, spread)
    check(spread["orders_cancelled"] >= open_orders, spread)
    check(all(m["chat_id"] == 42 for m in mock.sent), "a reply went to chat 99")
    check("ignored a message from chat 99" in err, "unauthorized chat not logged")
    db = sqlite3.connect(env.db)
    audit = db.execute("SELECT plugin, reason FROM exec_audit WHERE decision = 'control' ORDER BY id").fetchall()
    db_orders = db.execute("SELECT status, count(*) FROM orders GROUP BY status").fetchall()
    rejects = db.execute("SELECT count(*) FROM exec_audit WHERE plugin = 'spread' AND decision = 'rejected' "
                         "AND reason LIKE 'kill_switch:%'").fetchone()[0]
    db.close()
    check(len(audit) == 3 and all(a[0] == "tgbot" for a in audit), audit)
    check(audit[0][1].startswith("cancel-all: %d open order(s) sent to the paper relayer" % open_orders), audit)
    check(audit[1][1].startswith("pause of 'spread': kill switch on"), audit)
    check(audit[2][1].startswith("refused pause of 'ghost'"), audit)
    check(dict(db_orders).get("cancelled", 0) >= open_orders, db_orders)
    check(rejects >= 1, "no kill_switch rejection stored")
    no_token_anywhere(env, [out, err])

    # Restart on the same database: the pause is read back before any plan.
    mock.sent.clear()
    p = run_feed_held(env, cfg, "--json")
    try:
        status = chat.until("/status", lambda r: "[run, feed done]" in r)
        check("Paused plugins: spread" in status and "Plans: 0 accepted" in status, status)
        pnl = chat.say("/pnl")
        check(pnl == "No PnL yet.", pnl)  # nothing traded: spread was paused all along
        check(chat.say("/resume spread") == "Resumed spread.", "resume")
        out, err = signal_and_wait(p, signal.SIGTERM)
    finally:
        kill_if_running(p)
        mock.stop()
    check(p.returncode == 0, "run exited %d\n%s" % (p.returncode, err[-3000:]))
    check("paused by %s.control.json: spread" % env.db in err, err[-2000:])
    spread = spread_summary(out)
    check(spread["accepted"] == 0 and spread["rejects_by_reason"].get("kill_switch", 0) == spread["plans"] > 0, spread)
    with open(env.db + ".control.json") as f:
        check(json.load(f) == {"all": False, "plugins": []}, "pause file after /resume")
    no_token_anywhere(env, [out, err])


def offline_positions_pnl(env):
    # A paper run that fills (spread on the sample) with the bot held open after
    # the feed: live /positions and /pnl, then the same offline from the fills.
    mock, cfg, chat = start_bot(env)
    p = run_feed_held(env, cfg, "--json")
    try:
        chat.until("/status", lambda r: "[run, feed done]" in r)
        live_positions, live_pnl = chat.say("/positions"), chat.say("/pnl")
        out, err = signal_and_wait(p, signal.SIGINT)
    finally:
        kill_if_running(p)
        mock.stop()
    check(p.returncode == 0, err[-2000:])
    spread = spread_summary(out)
    check(spread["fills"] > 0, "the sample gives spread no fill: %r" % spread)
    # The run summary's cash flow and marks.
    expected = "PnL\nspread: %s (realised %s, fees %s)" % (spread["pnl_at_mid"], spread["cash"], spread["fees"])
    check(live_pnl == expected, (live_pnl, expected))
    check(live_positions.startswith("Positions: ") and "\nspread " in live_positions and " avg " in live_positions,
          live_positions)
    replies, _ = env.local([msg("/positions"), msg("/pnl")])
    positions, pnl = replies[0]["reply"], replies[1]["reply"]
    check(positions == live_positions, (positions, live_positions))
    check(pnl == expected, (pnl, expected))


def run_config_kill_switch(env):
    mock, cfg, chat = start_bot(env)
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write('[risk]\nkill_switch = ["spread"]\n\n' + text)
    p = run_feed_held(env, cfg)
    try:
        chat.until("/status", lambda r: "[run, feed done]" in r)
        refused = chat.say("/resume spread")
        check(refused.startswith("Resume of spread refused"), refused)
        check(chat.say("/pause") == "Paused all plugins.", "pause all")
        status = chat.say("/status")
        check(status.startswith("Status: PAUSED") and "Paused plugins: spread tgbot" in status, status)
        check(chat.say("/resume") == "Resumed all plugins.", "resume all")
        plugins = chat.say("/plugins")
        check(plugins == "Plugins:\nspread: active, paused\ntgbot: active", plugins)
        out, err = signal_and_wait(p, signal.SIGINT)
    finally:
        kill_if_running(p)
        mock.stop()
    check(p.returncode == 0, err[-2000:])
    db = sqlite3.connect(env.db)
    audit = [r[0] for r in db.execute("SELECT reason FROM exec_audit WHERE decision = 'control' ORDER BY id")]
    db.close()
    check(len(audit) == 3, audit)
    check(audit[0].startswith("refused resume of 'spread': [risk] kill_switch lists it"), audit)
    check(audit[2].startswith("resume of every plugin: kill switch off except [risk] kill_switch spread"), audit)


def run_masks_plugin_token(env):
    cfg = env.config('token = "mkt-2"\nlive = false')
    with open(cfg, "a") as f:
        f.write('\n[plugin.spread]\nassets = ["mkt-1/yes", "mkt-2/yes"]\nhalf_spread_ticks = 2\norder_size = 10\n')
    p = run([env.polyhost, "run", "--feed", SAMPLE, "--plugins", "spread,tgbot", "--relayer", "paper", "--no-db",
             "--config", cfg, "--log-level", "debug"])
    check("market=mkt-1" in p.stderr, "the debug log names no market: the test proves nothing\n" + p.stderr[-2000:])
    check("mkt-2" not in p.stderr and "market=***" in p.stderr, p.stderr[-2000:])


CASES = {f.__name__: f for f in [offline_every_command, offline_unauthorized_chat, offline_two_step_confirm,
                                 offline_pause_survives, offline_bad_line, live_poll_mock, live_bad_token,
                                 run_hosted_bot, offline_positions_pnl, run_masks_plugin_token,
                                 run_config_kill_switch]}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        sys.exit("usage: tgbot_test.py POLYHOST PLUGIN_DIR CASE (%s)" % ", ".join(CASES))
    with tempfile.TemporaryDirectory() as d:
        try:
            CASES[sys.argv[3]](Env(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), d))
        except Failure as e:
            import traceback
            print("FAIL %s (line %d): %s" % (sys.argv[3], traceback.extract_tb(e.__traceback__)[1].lineno, e))
            return 1
    print("ok %s" % sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())

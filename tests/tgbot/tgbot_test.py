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
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(REPO, "recordings", "sample.jsonl")
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
    check(r["/positions"].startswith("Positions unavailable: positions is not available offline yet"),
          r["/positions"])
    check(r["/pnl"].startswith("PnL unavailable: pnl is not available offline yet"), r["/pnl"])
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
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
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
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
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


CASES = {f.__name__: f for f in [offline_every_command, offline_unauthorized_chat, offline_two_step_confirm,
                                 offline_pause_survives, offline_bad_line, live_poll_mock, live_bad_token]}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        sys.exit("usage: tgbot_test.py POLYHOST PLUGIN_DIR CASE (%s)" % ", ".join(CASES))
    with tempfile.TemporaryDirectory() as d:
        try:
            CASES[sys.argv[3]](Env(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), d))
        except Failure as e:
            print("FAIL %s: %s" % (sys.argv[3], e))
            return 1
    print("ok %s" % sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())

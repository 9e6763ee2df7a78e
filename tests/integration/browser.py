#!/usr/bin/env python3
"""browser.py - opens a page in headless Chromium and reports what it rendered.

Usage: browser.py [--timeout S] [--wait EXPR] [--eval EXPR]... [--dom FILE] URL

Drives Debian's chromium over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ended by NUL on file descriptors
3 and 4), with nothing but the standard library. It opens URL, waits for
the load event, then polls the JavaScript expression EXPR (if given) until
it is truthy or the timeout passes, evaluates each --eval expression and
prints one JSON object on stdout:

  {"ok": true|false, "waited": true|false, "values": [...],
   "console": [{"level", "text"}],   console calls and browser log entries
   "errors": [...],                   uncaught exceptions, console errors,
                                      log entries of level error (failed
                                      requests, refused by the page's CSP)
   "requests": [url, ...]}            every request the page made

--dom FILE writes the document as rendered (outerHTML) to FILE, and
--screenshot FILE a PNG of the whole page (for a person looking into a
failure; the tests check the DOM).
Exit status: 0 when the page loaded and EXPR became true, 1 otherwise,
77 when no chromium is installed (CHROMIUM names another binary).
"""
import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

FLAGS = [
    "--headless",
    "--no-sandbox",  # root in CI containers; the page is our own
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
    "--remote-debugging-pipe",
]


class Browser:
    def __init__(self, binary, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4, to_r, from_w), preexec_fn=fds,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def recv(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.from_r], [], [], left)
            if ready:
                data = os.read(self.from_r, 1 << 16)
                if not data:
                    raise EOFError("chromium closed its pipe")
                self.buf += data
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        mid = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv(deadline)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self.recv(deadline))

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def remote_text(obj):
    if "value" in obj:
        return str(obj["value"])
    return obj.get("description", obj.get("type", "?"))


def report_events(events, out):
    for ev in events:
        method, p = ev.get("method"), ev.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(remote_text(a) for a in p.get("args", []))
            out["console"].append({"level": p.get("type"), "text": text})
            if p.get("type") in ("error", "assert"):
                out["errors"].append("console." + p["type"] + ": " + text)
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            exc = d.get("exception", {})
            out["errors"].append("uncaught: " + exc.get("description", d.get("text", "?")))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            out["console"].append({"level": e.get("level"), "text": e.get("text", "") + " " + e.get("url", "")})
            if e.get("level") == "error":
                out["errors"].append("log: " + e.get("text", "") + " " + e.get("url", ""))
        elif method == "Network.requestWillBeSent":
            out["requests"].append(p.get("request", {}).get("url"))


def evaluate(b, session, expr):
    r = b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, session)
    if "exceptionDetails" in r:
        return {"exception": r["exceptionDetails"].get("exception", {}).get("description", "?")}
    return r.get("result", {}).get("value")


def run(a, b, out):
    session = b.call("Target.attachToTarget", {
        "targetId": b.call("Target.createTarget", {"url": "about:blank"})["targetId"], "flatten": True,
    })["sessionId"]
    for domain in ("Runtime", "Log", "Network", "Page"):
        b.call(domain + ".enable", session=session)
    b.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
           session)
    b.call("Page.navigate", {"url": a.url}, session)
    b.wait_event("Page.loadEventFired", a.timeout)
    deadline = time.monotonic() + a.timeout
    waited = a.wait is None
    while not waited:
        waited = bool(evaluate(b, session, a.wait))
        if waited or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    out["waited"] = waited
    out["values"] = [evaluate(b, session, e) for e in a.eval]
    if a.dom:
        with open(a.dom, "w", encoding="utf-8") as f:
            f.write(evaluate(b, session, "document.documentElement.outerHTML"))
    if a.screenshot:
        shot = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
        with open(a.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    # Whatever the page logged up to now, including what came with the
    # last answers.
    b.call("Runtime.evaluate", {"expression": "0"}, session)
    out["ok"] = waited


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--wait")
    ap.add_argument("--eval", action="append", default=[])
    ap.add_argument("--dom")
    ap.add_argument("--screenshot")
    ap.add_argument("url")
    a = ap.parse_args()
    binary = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not binary:
        print("browser.py: chromium not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 77
    out = {"ok": False, "waited": False, "values": [], "console": [], "errors": [], "requests": []}
    profile = tempfile.mkdtemp(prefix="edonu-chromium.")
    b = Browser(binary, profile)
    try:
        run(a, b, out)
    except (TimeoutError, EOFError, RuntimeError) as e:
        out["errors"].append("driver: " + str(e))
    finally:
        report_events(b.events, out)
        b.close()
        shutil.rmtree(profile, ignore_errors=True)
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

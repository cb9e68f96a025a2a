#!/usr/bin/env bash
# `tactus eval --html FILE`, opened in headless Chromium (Debian's chromium):
# the page renders (its script ran), shows every case (names with HTML
# in them escaped, not interpreted), and every figure it shows equals the
# JSON report's: each case's counts, rate and interval, pass^k, flakiness,
# consistency, the evaluation's figures and thresholds, and the baseline
# comparison; it loads nothing from anywhere (no src, href or url()), and
# a screenshot of it is not blank.
#   html.sh TACTUS
set -u
tactus=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "evals html: FAIL: $*" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser) ||
    fail "chromium is not installed (scripts/install-deps.sh installs it)"

# Runs differ by their random seed (fixed per case and run number), so the
# success rates are known in advance and the same every time.
write_tac() { # P_MOSTLY
    cat >"$work/flaky.tac" <<TAC
Procedure {
  input = {p = field.number{required = true}},
  function(input) return {ok = math.random() < input.p} end,
}

Evaluation({
  runs = 20,
  pass_k = {1, 3},
  dataset = {
    {name = "always", inputs = {p = 1}, expected_output = {ok = true}},
    {name = "mostly", inputs = {p = $1}, expected_output = {ok = true}},
    {name = "half <b>&amp; \"quoted\"</b>", inputs = {p = 0.5}, expected_output = {ok = true}},
    {name = "never", inputs = {p = 0}, expected_output = {ok = true}},
  },
  evaluators = {field.equals_expected{}},
  thresholds = {min_success_rate = 0.5, max_flaky_cases = 2, min_pass_k = {k = 3, value = 0.3}},
})
TAC
}
write_tac 0.9
"$tactus" eval --mock --no-sandbox --save "$work/before.json" --format json -o /dev/null "$work/flaky.tac" 2>/dev/null
[ -s "$work/before.json" ] || fail "no --save file"
write_tac 0.2
"$tactus" eval --mock --no-sandbox --baseline "$work/before.json" --format json -o "$work/r.json" \
    --html "$work/page.html" "$work/flaky.tac" 2>"$work/err"
[ -s "$work/page.html" ] && [ -s "$work/r.json" ] || fail "no report: $(cat "$work/err")"

# Nothing from elsewhere: no attribute or style that could load anything.
if grep -Eio '(src|href)=|url\(|@import|https?://' "$work/page.html" >"$work/ext"; then
    fail "the page refers to outside resources: $(sort -u "$work/ext" | tr '\n' ' ')"
fi

chrome() {
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-extensions \
        --user-data-dir="$work/profile" "$@" 2>>"$work/chrome.err"
}
chrome --dump-dom "file://$work/page.html" >"$work/dom.html" || fail "chromium failed: $(tail -5 "$work/chrome.err")"
chrome --screenshot="$work/page.png" --window-size=1280,2400 "file://$work/page.html" >/dev/null ||
    fail "chromium could not take a screenshot: $(tail -5 "$work/chrome.err")"

python3 - "$work/dom.html" "$work/r.json" "$work/page.png" <<'PY' || fail "the page does not show the JSON report's figures"
import json, struct, sys, zlib
from html.parser import HTMLParser

dom = open(sys.argv[1], encoding="utf-8").read()
doc = json.load(open(sys.argv[2]))
ev = doc["evaluations"][0]

class Page(HTMLParser):
    """Elements with their attributes and their own text, in order."""
    def __init__(self):
        super().__init__()
        self.stack, self.elements = [], []
    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(el)
        if tag not in ("meta", "br", "link", "img", "input"):
            self.stack.append(el)
    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})
    def handle_endtag(self, tag):
        if not any(el["tag"] == tag for el in self.stack):
            return
        while self.stack:
            el = self.stack.pop()
            if el["tag"] == tag:
                break
    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

p = Page()
p.feed(dom)
els = p.elements
html = [e for e in els if e["tag"] == "html"][0]
body = [e for e in els if e["tag"] == "body"][0]
assert html["attrs"].get("data-rendered") == "yes", "the page's script did not run"
assert body["attrs"]["data-cases-shown"] == str(len(ev["cases"])), body["attrs"]
assert body["attrs"]["data-passed"] == ("true" if doc["passed"] else "false")

def num(s):
    return None if s == "null" else float(s)
def same(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-12 * max(1, abs(b)))
def pct(v):
    return "\u2013" if v is None else "%.1f%%" % (100 * v)

rows = {e["attrs"]["data-name"]: e for e in els if e["tag"] == "tr" and e["attrs"].get("class") == "case"}
assert sorted(rows) == sorted(c["name"] for c in ev["cases"]), (sorted(rows), [c["name"] for c in ev["cases"]])
assert any("<b>" in name for name in rows), "the name with markup is shown as text"
assert not [e for e in els if e["tag"] == "b"], "a case name's markup was interpreted"
for c in ev["cases"]:
    a = rows[c["name"]]["attrs"]
    assert same(num(a["data-passed"]), c["passed"]) and same(num(a["data-counted"]), c["counted_runs"]), (a, c)
    assert same(num(a["data-rate"]), c["success_rate"]), (a, c["success_rate"])
    assert same(num(a["data-low"]), c["interval"]["low"]) and same(num(a["data-high"]), c["interval"]["high"]), (a, c["interval"])
    assert same(num(a["data-consistency"]), c["consistency"]), a
    assert a["data-flaky"] == ("true" if c["flaky"] else "false"), a
    text = rows[c["name"]]["text"]
    assert "%d/%d" % (c["passed"], c["counted_runs"]) in text, text
    assert pct(c["success_rate"]) in text and pct(c["interval"]["low"]) in text and pct(c["interval"]["high"]) in text, text
# pass^k per case, in row order.
hats = [e for e in els if e["tag"] == "td" and "pass-hat" in e["attrs"].get("class", "")]
want = [(c["pass_hat_k"][k], k) for c in ev["cases"] for k in c["pass_hat_k"]]
assert len(hats) == len(want), (len(hats), len(want))
for e, (v, k) in zip(hats, want):
    assert e["attrs"]["data-k"] == k and same(num(e["attrs"]["data-value"]), v) and e["text"] == pct(v), (e, v)
# The evaluation's figures.
keyed = {e["attrs"]["data-key"]: e for e in els if "data-key" in e["attrs"]}
assert same(num(keyed["success_rate"]["attrs"]["data-value"]), ev["success_rate"])
assert keyed["success_rate"]["text"] == pct(ev["success_rate"])
for key in ("interval", "bootstrap_interval"):
    a = keyed[key]["attrs"]
    assert same(num(a["data-low"]), ev[key]["low"]) and same(num(a["data-high"]), ev[key]["high"]), (key, a)
for k in ev["pass_hat_k"]:
    assert same(num(keyed["pass_hat_k." + k]["attrs"]["data-value"]), ev["pass_hat_k"][k])
    assert same(num(keyed["pass_at_k." + k]["attrs"]["data-value"]), ev["pass_at_k"][k])
assert same(num(keyed["flaky_cases"]["attrs"]["data-value"]), ev["flaky_cases"])
for key in ("duration", "cost_usd", "tokens"):
    for stat in ("mean", "p50", "p95", "max"):
        assert same(num(keyed[key]["attrs"]["data-" + stat]), ev[key][stat]), (key, stat)
# Duration and cost distributions: every counted run in each histogram.
runs = sum(c["counted_runs"] + c["errors"] for c in ev["cases"])
hist = {e["attrs"]["id"]: e for e in els if e["tag"] == "svg" and "histogram" in e["attrs"].get("class", "")}
assert hist["duration-1"]["attrs"]["data-runs"] == str(runs) and hist["cost-1"]["attrs"]["data-runs"] == str(runs), hist.keys()
# Thresholds.
ths = {e["attrs"]["data-name"]: e["attrs"] for e in els if e["tag"] == "tr" and e["attrs"].get("class") == "threshold"}
for t in ev["thresholds"]:
    a = ths[t["name"]]
    assert a["data-met"] == ("true" if t["met"] else "false") and same(num(a["data-value"]), t["value"]), (a, t)
# The baseline comparison.
cmp = ev["comparison"]
whole = [e for e in els if e["tag"] == "p" and e["attrs"].get("class") == "whole"][0]["attrs"]
assert whole["data-regressed"] == ("true" if cmp["regressed"] else "false")
assert same(num(whole["data-difference"]), cmp["whole"]["difference"])
assert same(num(whole["data-low"]), cmp["whole"]["interval"]["low"]) and same(num(whole["data-high"]), cmp["whole"]["interval"]["high"])
comp = {e["attrs"]["data-name"]: e for e in els if e["tag"] == "tr" and e["attrs"].get("class") == "compared"}
for c in cmp["cases"]:
    a = comp[c["name"]]["attrs"]
    assert same(num(a["data-difference"]), c["difference"]), (a, c)
    assert same(num(a["data-low"]), c["interval"]["low"]) and same(num(a["data-high"]), c["interval"]["high"]), (a, c)
    assert c["status"] in comp[c["name"]]["text"]
assert "mostly" in cmp["regressed_cases"], cmp["regressed_cases"]
# The screenshot: a PNG of the page, not a blank one.
png = open(sys.argv[3], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000, len(png)
print("evals html: the page renders in Chromium, shows all %d cases and the comparison, and its "
      "figures equal the JSON report's (%d pass^k cells, %d thresholds); screenshot %d bytes"
      % (len(rows), len(hats), len(ths), len(png)))
PY

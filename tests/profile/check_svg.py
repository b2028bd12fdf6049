#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""Checks an SVG flame graph written by libgoprof.

usage: check_svg.py FILE TOTAL [NAME:KIND:VALUE ...] [--script ZOOM_NAME SEARCH_RE MATCHED_PCT]

1. The file is well-formed XML (xml.etree) with the search and zoom script embedded.
2. Layout: the root frame "all" carries TOTAL; every frame's width is proportional to
   its value; every frame sits inside a frame of the level below.
3. Each NAME:KIND:VALUE exists (KIND is go, native, kernel, comm).
4. With --script and node installed: runs the embedded script against a small fake DOM
   built from the file, zooms on ZOOM_NAME, searches SEARCH_RE and expects the
   "Matched: MATCHED_PCT%" text; checks ancestors, hidden frames and reset.
Exits non-zero with a message on the first failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
WIDTH, XPAD = 1200, 10
WINDOW = 1600  # the browser window the script sees: it lays the frames out again at this width


def fail(msg):
    print("check_svg: FAIL: " + msg)
    sys.exit(1)


def frames_of(root):
    out = []
    container = root.find(f".//{NS}g[@id='frames']")
    if container is None:
        fail("no <g id='frames'>")
    for g in container.findall(f"{NS}g"):
        cls = g.get("class", "").split()
        if not cls or cls[0] != "f":
            continue
        title = g.find(f"{NS}title").text
        name = title[: title.rfind(" (")]
        rect = g.find(f"{NS}rect")
        text = g.find(f"{NS}text")
        out.append({
            "name": name, "kind": cls[1], "title": title,
            "x": int(g.get("data-x")), "w": int(g.get("data-w")), "d": int(g.get("data-d")),
            "rx": float(rect.get("x")), "rw": float(rect.get("width")),
            "fill": rect.get("fill"), "label": text.text or "",
        })
    return out


NODE_HARNESS = r"""
const fs = require("fs");
const data = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
function Text(v) { this.nodeValue = v; }
function El(tag, attrs) {
  this.tagName = tag; this.attrs = attrs || {}; this.children = []; this.parentNode = null;
  this.listeners = {}; this.text = new Text(" ");
  const self = this;
  this.classList = {
    list() { return (self.attrs["class"] || "").split(" ").filter(Boolean); },
    contains(c) { return this.list().indexOf(c) >= 0; },
    add(c) { const l = this.list(); if (l.indexOf(c) < 0) l.push(c); self.attrs["class"] = l.join(" "); },
    remove(c) { self.attrs["class"] = this.list().filter(x => x !== c).join(" "); },
  };
}
El.prototype.getAttribute = function (n) { return n in this.attrs ? this.attrs[n] : null; };
El.prototype.setAttribute = function (n, v) { this.attrs[n] = String(v); };
El.prototype.hasAttribute = function (n) { return n in this.attrs; };
El.prototype.addEventListener = function (ev, fn) { this.listeners[ev] = fn; };
El.prototype.append = function (c) { c.parentNode = this; this.children.push(c); return c; };
El.prototype.getElementsByTagName = function (t) {
  const out = [];
  (function walk(e) { for (const c of e.children) { if (c.tagName === t) out.push(c); walk(c); } })(this);
  return out;
};
Object.defineProperty(El.prototype, "firstChild", { get() { return this.text; } });
Object.defineProperty(El.prototype, "textContent", {
  get() { return this.text.nodeValue; }, set(v) { this.text.nodeValue = v; } });

const ids = {};
for (const id of ["frames", "details", "search", "unzoom", "matched"]) ids[id] = new El(id === "frames" ? "g" : "text", { id });
ids.unzoom.classList.add("hide");
ids.search.text.nodeValue = "Search";
const gs = data.frames.map(f => {
  const g = ids.frames.append(new El("g", { "class": "f " + f.kind, "data-x": String(f.x), "data-w": String(f.w), "data-d": String(f.d) }));
  const t = g.append(new El("title")); t.text.nodeValue = f.title;
  g.append(new El("rect", { x: String(f.rx), width: String(f.rw), fill: f.fill }));
  g.append(new El("text", { x: String(f.rx + 3) })).text.nodeValue = f.label;
  g.name = f.name;
  return g;
});
const win = new El("window");
global.document = { getElementById: id => ids[id],
  documentElement: { getBoundingClientRect: () => ({ width: data.window }) } };
global.window = win;
let promptAnswer = null;
global.prompt = () => promptAnswer;
global.alert = m => { throw new Error("alert: " + m); };
(0, eval)(data.script);
init({});

function find(name) { const g = gs.find(g => g.name === name); if (!g) throw new Error("no frame " + name); return g; }
function rect(g) { return g.getElementsByTagName("rect")[0]; }
const res = {};
// At load the frames fill the window's width (fit()).
res.loaded = gs.map(g => ({ name: g.name, x: +rect(g).getAttribute("x"), w: +rect(g).getAttribute("width") }));
// Click on a frame's rect: the handler must find the frame group and zoom on it.
ids.frames.listeners.click({ target: rect(find(data.zoom)) });
res.zoomed = gs.map(g => ({ name: g.name, hidden: g.classList.contains("hide"), parent: g.classList.contains("parent"),
  x: +rect(g).getAttribute("x"), w: +rect(g).getAttribute("width"), label: g.getElementsByTagName("text")[0].textContent }));
res.unzoomVisible = !ids.unzoom.classList.contains("hide");
ids.frames.listeners.mouseover({ target: rect(find(data.zoom)) });
res.details = ids.details.text.nodeValue;
promptAnswer = data.search;
ids.search.listeners.click();
res.matched = ids.matched.text.nodeValue;
res.searchLabel = ids.search.text.nodeValue;
res.highlighted = gs.filter(g => rect(g).getAttribute("fill") === SEARCH_COLOR).map(g => g.name);
ids.search.listeners.click();   // reset search
res.afterReset = gs.filter(g => rect(g).getAttribute("fill") === SEARCH_COLOR).length;
res.matchedAfterReset = ids.matched.text.nodeValue;
ids.unzoom.listeners.click();
res.unzoomed = gs.map(g => ({ name: g.name, hidden: g.classList.contains("hide"), w: +rect(g).getAttribute("width") }));
console.log(JSON.stringify(res));
"""


def run_script_checks(root, frames, zoom, search, matched_pct):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        if os.environ.get("CI") == "true":
            fail("node not installed: the script must be checked in CI")
        print("check_svg: node not installed: script behaviour not checked")
        return
    script = "".join(s.text or "" for s in root.iter(f"{NS}script"))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"frames": frames, "script": script, "zoom": zoom, "search": search,
                   "window": WINDOW}, f)
        data_path = f.name
    with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as f:
        f.write(NODE_HARNESS)
        js_path = f.name
    r = subprocess.run([node, js_path, data_path], capture_output=True, text=True)
    if r.returncode:
        fail("embedded script failed under node:\n" + r.stdout + r.stderr)
    res = json.loads(r.stdout)
    full = WINDOW - 2 * XPAD
    for f, s in zip(frames, res["loaded"]):
        want_x, want_w = XPAD + f["x"] * full / frames[0]["w"], f["w"] * full / frames[0]["w"]
        if abs(s["x"] - want_x) > 0.02 or abs(s["w"] - want_w) > 0.02:
            fail(f"load: {f['name']} not laid out for a {WINDOW}px window: {s}, want x {want_x:.2f} w {want_w:.2f}")
    z = next(f for f in frames if f["name"] == zoom)
    for f, s in zip(frames, res["zoomed"]):
        inside = f["d"] >= z["d"] and f["x"] >= z["x"] and f["x"] + f["w"] <= z["x"] + z["w"]
        ancestor = f["d"] < z["d"] and f["x"] <= z["x"] and f["x"] + f["w"] >= z["x"] + z["w"]
        if ancestor:
            if s["hidden"] or not s["parent"] or abs(s["w"] - full) > 0.01:
                fail(f"zoom: ancestor {f['name']} should be full width and faded: {s}")
        elif inside:
            want_x = XPAD + (f["x"] - z["x"]) * full / z["w"]
            want_w = f["w"] * full / z["w"]
            if s["hidden"] or abs(s["x"] - want_x) > 0.02 or abs(s["w"] - want_w) > 0.02:
                fail(f"zoom: {f['name']} should be at {want_x:.2f} width {want_w:.2f}: {s}")
            if want_w > 60 and not s["label"]:
                fail(f"zoom: {f['name']} is {want_w:.0f}px wide but has no label")
        elif not s["hidden"]:
            fail(f"zoom: {f['name']} is outside the zoomed frame but visible: {s}")
    if not res["unzoomVisible"]:
        fail("zoom: the Reset Zoom button stayed hidden")
    if zoom not in res["details"]:
        fail(f"mouseover: details line is {res['details']!r}")
    if res["matched"] != f"Matched: {matched_pct}%":
        fail(f"search {search!r}: got {res['matched']!r}, want 'Matched: {matched_pct}%'")
    if not res["highlighted"] or res["searchLabel"] != "Reset Search":
        fail(f"search: nothing highlighted or button not updated: {res}")
    if res["afterReset"] or res["matchedAfterReset"].strip():
        fail("reset search left highlights or the matched text")
    for f, s in zip(frames, res["unzoomed"]):
        if s["hidden"] or abs(s["w"] - f["w"] * full / frames[0]["w"]) > 0.02:
            fail(f"unzoom: {f['name']} not restored: {s}")
    print(f"check_svg: script OK (zoom {zoom}, search {search!r} -> {res['matched']}, "
          f"highlighted {len(res['highlighted'])})")


def main():
    args = sys.argv[1:]
    script_args = None
    if "--script" in args:
        i = args.index("--script")
        script_args = args[i + 1: i + 4]
        args = args[:i]
    path, total, expected = args[0], int(args[1]), args[2:]
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        fail(f"not well-formed XML: {e}")
    if root.tag != NS + "svg":
        fail(f"root element is {root.tag}")
    script = "".join(s.text or "" for s in root.iter(f"{NS}script"))
    for needle in ("function zoom", "function unzoom", "function search", "Matched: ", "prompt("):
        if needle not in script:
            fail(f"embedded script lacks {needle!r}")
    frames = frames_of(root)
    if not frames or frames[0]["name"] != "all" or frames[0]["w"] != total:
        fail(f"root frame: {frames[:1]} (want all = {total})")
    scale = (WIDTH - 2 * XPAD) / total if total else 0.0
    for f in frames:
        if abs(f["rw"] - f["w"] * scale) > 0.01 or abs(f["rx"] - (XPAD + f["x"] * scale)) > 0.01:
            fail(f"frame {f['name']}: rect {f['rx']},{f['rw']} for value {f['x']}+{f['w']}")
        if f["d"] > 0 and not any(p["d"] == f["d"] - 1 and p["x"] <= f["x"] and
                                  f["x"] + f["w"] <= p["x"] + p["w"] for p in frames):
            fail(f"frame {f['name']} has no parent frame below it")
        pct = f"{100.0 * f['w'] / total if total else 0.0:.2f}%"
        if pct not in f["title"]:
            fail(f"tooltip of {f['name']} lacks {pct}: {f['title']}")
    for e in expected:
        name, kind, value = e.rsplit(":", 2)
        if not any(f["name"] == name and f["kind"] == kind and f["w"] == int(value) for f in frames):
            fail(f"no frame {name} ({kind}) of value {value}; frames: " +
                 ", ".join(f"{f['name']}:{f['kind']}:{f['w']}" for f in frames))
    print(f"check_svg: {len(frames)} frames OK")
    if script_args:
        run_script_checks(root, frames, *script_args)


main()

// The scene's controls: keyboard, buttons and headset all do the same few things, each reported as a
// small typed event (never a position stream). Moving between rooms is a teleport behind a fade.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("journey-data").textContent);
  var csrf = document.querySelector('meta[name="civiclab-csrf"]').content;
  var rig = document.getElementById("rig");
  var camera = document.getElementById("camera");
  var caption = document.getElementById("caption");
  var title = document.getElementById("step-title");
  var overlay = document.getElementById("vignette-overlay");
  var current = data.first;
  var heading = 0;
  var settings = { seated: false, vignette: true, captions: true };
  var frames = [];
  var busy = false;

  function post(event) {
    event.channel = "immersive_3d";
    return fetch("/api/event", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(event),
    });
  }
  function fpsMedian() {
    if (!frames.length) return null;
    var sorted = frames.slice().sort(function (a, b) { return a - b; });
    return sorted[Math.floor(sorted.length / 2)];
  }
  function show(stepId) {
    var step = data.steps[stepId];
    title.textContent = step.title;
    caption.textContent = settings.captions ? step.caption : "";
    document.getElementById("help").hidden = !step.point;
    document.getElementById("fallback").hidden = !step.fallback;
    document.getElementById("twin").setAttribute("href", "/twin/" + stepId + "?switch=1");
    document.body.setAttribute("data-step", stepId);
  }
  function fade(then) {
    if (!settings.vignette) { then(); return; }
    overlay.classList.add("dark");
    setTimeout(function () { then(); overlay.classList.remove("dark"); }, 150);
  }
  function enter(stepId) {
    current = stepId;
    fade(function () {
      rig.setAttribute("position", { x: data.rooms[stepId], y: 0, z: 2 });
      show(stepId);
    });
    return post({ kind: "step_entered", step: stepId });
  }
  function leaveTo(url, event) {
    var body = event || {};
    body.fps_median = fpsMedian();
    return post(body).then(function () { window.location.assign(url); });
  }
  function go(target) {
    if (busy) return;
    busy = true;
    post({ kind: "step_completed", step: current }).then(function () {
      if (target === null) {
        return leaveTo("/finish", { kind: "journey_completed" });
      }
      if (data.steps[target].channel !== "immersive_3d") {
        // The journey itself continues on another channel: its own plain page, not a switch to the twin.
        return leaveTo("/twin/" + target + "?from=scene", { kind: "step_entered", step: target });
      }
      return enter(target);
    }).finally(function () { busy = false; });
  }
  function turn(degrees) {
    heading = (heading + degrees + 360) % 360;
    rig.setAttribute("rotation", { x: 0, y: heading, z: 0 });
  }
  function toggle(name) {
    settings[name] = !settings[name];
    document.getElementById(name).setAttribute("aria-pressed", String(settings[name]));
    if (name === "seated") camera.setAttribute("position", { x: 0, y: settings.seated ? 1.2 : 1.6, z: 0 });
    if (name === "captions") show(current);
    document.body.classList.toggle("no-vignette", !settings.vignette);
    post({ kind: "comfort", setting: name, value: settings[name] ? "on" : "off" });
  }
  var actions = {
    next: function () { go(data.steps[current].next); },
    fallback: function () { if (data.steps[current].fallback) go(data.steps[current].fallback); },
    help: function () { if (data.steps[current].point) post({ kind: "help", step: current }); caption.textContent = "Help requested: " + (data.steps[current].assistance || ""); },
    turn_left: function () { turn(45); },
    turn_right: function () { turn(-45); },
    seated: function () { toggle("seated"); },
    vignette: function () { toggle("vignette"); },
    captions: function () { toggle("captions"); },
    twin: function () { leaveTo("/twin/" + current + "?switch=1", { kind: "switch_to_twin", step: current }); },
    stop: function () { window.location.assign("/stop"); },
  };
  Object.keys(actions).forEach(function (name) {
    var el = document.getElementById(name);
    if (!el) return;
    el.addEventListener("click", function (e) { e.preventDefault(); actions[name](); });
  });
  var byKey = {};
  Object.keys(data.keys).forEach(function (name) { byKey[data.keys[name].toLowerCase()] = name; });
  document.addEventListener("keydown", function (e) {
    if (e.target && (e.target.tagName === "BUTTON" || e.target.tagName === "A") && e.key === "Enter") return;
    var name = byKey[e.key.toLowerCase()];
    if (name) { e.preventDefault(); actions[name](); }
  });
  // Frame rate, one figure a second: kept as a median only.
  var count = 0, since = performance.now();
  function tick(now) {
    count += 1;
    if (now - since >= 1000) { frames.push(count * 1000 / (now - since)); count = 0; since = now; if (frames.length > 600) frames.shift(); }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
  // Text in the rooms is drawn on canvases with the system's fonts: no font file is fetched.
  function wrap(ctx, text, width) {
    var words = text.split(/\s+/), lines = [], line = "";
    words.forEach(function (w) {
      var next = line ? line + " " + w : w;
      if (ctx.measureText(next).width > width && line) { lines.push(line); line = w; } else { line = next; }
    });
    if (line) lines.push(line);
    return lines;
  }
  function drawLabels() {
    var holder = document.createElement("div");
    holder.hidden = true;
    document.body.appendChild(holder);
    document.querySelectorAll("a-plane.label").forEach(function (plane, index) {
      var w = parseFloat(plane.getAttribute("width")), h = parseFloat(plane.getAttribute("height"));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(w * 128); canvas.height = Math.round(h * 128);
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = "#111111"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      var size = 40; ctx.font = size + "px sans-serif";
      var lines = wrap(ctx, plane.getAttribute("data-text"), canvas.width - 24);
      while (lines.length * size * 1.2 > canvas.height - 8 && size > 12) {
        size -= 2; ctx.font = size + "px sans-serif"; lines = wrap(ctx, plane.getAttribute("data-text"), canvas.width - 24);
      }
      var top = canvas.height / 2 - (lines.length - 1) * size * 0.6;
      lines.forEach(function (l, i) { ctx.fillText(l, canvas.width / 2, top + i * size * 1.2); });
      // Each canvas by its own id: A-Frame caches textures by source, and unnamed canvases would share one.
      canvas.id = "civiclab-label-" + index;
      holder.appendChild(canvas);
      plane.setAttribute("material", { shader: "flat", src: "#" + canvas.id });
    });
  }
  var scene = document.getElementById("scene");
  function ready() { drawLabels(); document.body.setAttribute("data-ready", "true"); enter(current); }
  if (scene.hasLoaded) ready(); else scene.addEventListener("loaded", ready);
})();

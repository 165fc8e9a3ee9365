// vod player: start at ?t=, resume where the viewer left off, speed control, chapter seeking,
// and a seek preview from the thumbnails `vod media` made.
// The page works without this script: the video still plays and `#t=` still starts at the moment.
(function () {
  "use strict";
  var box = document.querySelector(".player");
  var video = document.getElementById("player");
  if (!box || !video) return;
  var slug = box.getAttribute("data-slug");
  var start = parseFloat(box.getAttribute("data-start") || "");
  var key = "vod:position:" + slug;

  function clock(s) {
    s = Math.floor(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
  }

  function seek(t) {
    if (video.readyState >= 1) { video.currentTime = t; }
    else { video.addEventListener("loadedmetadata", function once() {
      video.removeEventListener("loadedmetadata", once); video.currentTime = t; }); }
  }

  var controls = document.createElement("div");
  controls.className = "player-controls";
  var label = document.createElement("label");
  label.textContent = "Speed ";
  var speed = document.createElement("select");
  [0.75, 1, 1.25, 1.5, 1.75, 2].forEach(function (r) {
    var o = document.createElement("option");
    o.value = String(r); o.textContent = r + "×"; if (r === 1) o.selected = true;
    speed.appendChild(o);
  });
  speed.addEventListener("change", function () { video.playbackRate = parseFloat(speed.value); });
  label.appendChild(speed);
  controls.appendChild(label);
  var status = document.createElement("span");
  status.className = "resume"; status.setAttribute("role", "status");
  controls.appendChild(status);
  video.parentNode.insertBefore(controls, video.nextSibling);  // inside a <details> too

  // Quality menu (issue #14): the original and the smaller renditions `vod media` made. The
  // switch keeps the position and whether the video was playing.
  var qualities = [];
  try { qualities = JSON.parse(video.getAttribute("data-qualities") || "[]"); } catch (e) { qualities = []; }
  if (qualities.length > 1) {
    var qLabel = document.createElement("label");
    qLabel.textContent = "Quality ";
    var quality = document.createElement("select");
    quality.className = "quality";
    qualities.forEach(function (q, i) {
      var o = document.createElement("option");
      o.value = String(i); o.textContent = q.label; quality.appendChild(o);
    });
    quality.addEventListener("change", function () {
      var at = video.currentTime, playing = !video.paused;
      var source = video.querySelector("source");
      var src = qualities[parseInt(quality.value, 10)].src;
      if (source) source.setAttribute("src", src); else video.src = src;
      video.load();
      video.addEventListener("loadedmetadata", function once() {
        video.removeEventListener("loadedmetadata", once);
        video.currentTime = at;
        video.playbackRate = parseFloat(speed.value);
        if (playing) video.play();
      });
    });
    qLabel.appendChild(quality);
    controls.insertBefore(qLabel, status);
  }

  if (!isNaN(start) && start > 0) {
    seek(start);
  } else {
    var saved = 0;
    try { saved = parseFloat(localStorage.getItem(key) || "0"); } catch (e) { saved = 0; }
    if (saved > 5) {
      seek(saved);
      status.textContent = "Resumed at " + clock(saved) + ". ";
      var again = document.createElement("button");
      again.type = "button"; again.textContent = "Start over";
      again.addEventListener("click", function () { video.currentTime = 0; status.textContent = ""; });
      status.appendChild(again);
    }
  }

  var lastSaved = 0;
  function save() {
    try {
      if (video.duration && video.currentTime > video.duration - 10) localStorage.removeItem(key);
      else localStorage.setItem(key, String(Math.floor(video.currentTime)));
    } catch (e) { /* private mode: no resume, nothing else lost */ }
  }
  video.addEventListener("timeupdate", function () {
    if (Math.abs(video.currentTime - lastSaved) >= 5) { lastSaved = video.currentTime; save(); }
  });
  video.addEventListener("pause", save);

  // Seek preview (issue #14): a timeline under the video that shows the thumbnail of the moment
  // under the pointer. The sprite's layout comes with the page (the same cells as its WebVTT
  // thumbnails track, `#xywh=`), so no request is needed to read the track, and a presigned or
  // CDN sprite URL works like a local one.
  var sprite = video.getAttribute("data-sprite");
  var grid = ["interval", "count", "columns", "width", "height"].map(function (n) {
    return parseFloat(video.getAttribute("data-thumb-" + n) || "");
  });
  if (sprite && grid.every(function (v) { return v > 0; })) {
    var interval = grid[0], count = grid[1], columns = grid[2], tw = grid[3], th = grid[4];
    var bar = document.createElement("div");
    bar.className = "seek-preview";
    var range = document.createElement("input");
    range.type = "range"; range.min = "0"; range.step = "1"; range.value = "0";
    range.max = String(Math.ceil(parseFloat(video.getAttribute("data-duration") || "") ||
                                 count * interval));
    range.setAttribute("aria-label", "Seek (shows a preview of the moment)");
    var thumb = document.createElement("div");
    thumb.className = "seek-thumb"; thumb.hidden = true;
    thumb.style.width = tw + "px"; thumb.style.height = th + "px";
    thumb.style.backgroundImage = "url(\"" + sprite.replace(/["\\]/g, encodeURIComponent) + "\")";
    var when = document.createElement("span");
    when.className = "seek-time";
    thumb.appendChild(when);
    bar.appendChild(range); bar.appendChild(thumb);
    box.insertBefore(bar, controls);
    var dragging = false;
    var show = function (t) {
      var i = Math.min(Math.max(Math.floor(t / interval), 0), count - 1);
      thumb.style.backgroundPosition = -(i % columns) * tw + "px " + -Math.floor(i / columns) * th + "px";
      var max = parseFloat(range.max) || 1, width = range.clientWidth;
      thumb.style.left = Math.min(Math.max(t / max * width - tw / 2, 0), Math.max(width - tw, 0)) + "px";
      when.textContent = clock(t);
      thumb.setAttribute("data-cell", String(i));
      thumb.hidden = false;
    };
    var at = function (ev) {
      var rect = range.getBoundingClientRect();
      return Math.min(Math.max((ev.clientX - rect.left) / (rect.width || 1), 0), 1) *
        parseFloat(range.max);
    };
    range.addEventListener("pointermove", function (ev) { show(at(ev)); });
    range.addEventListener("pointerleave", function () { if (!dragging) thumb.hidden = true; });
    range.addEventListener("pointerdown", function () { dragging = true; });
    range.addEventListener("input", function () { show(parseFloat(range.value)); });
    range.addEventListener("change", function () {
      dragging = false; thumb.hidden = true;
      video.currentTime = parseFloat(range.value);
    });
    range.addEventListener("blur", function () { dragging = false; thumb.hidden = true; });
    video.addEventListener("timeupdate", function () {
      if (!dragging) range.value = String(Math.floor(video.currentTime));
    });
    video.addEventListener("loadedmetadata", function () {
      if (video.duration && isFinite(video.duration)) range.max = String(Math.ceil(video.duration));
    });
  }

  document.querySelectorAll("[data-seek]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      video.currentTime = parseFloat(a.getAttribute("data-seek"));
      video.play();
      video.focus();
    });
  });
})();

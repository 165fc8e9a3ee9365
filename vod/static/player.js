// vod player: start at ?t=, resume where the viewer left off, speed control, chapter seeking.
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

  document.querySelectorAll("[data-seek]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      ev.preventDefault();
      video.currentTime = parseFloat(a.getAttribute("data-seek"));
      video.play();
      video.focus();
    });
  });
})();

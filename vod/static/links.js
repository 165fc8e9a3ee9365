// vod links: clips (?t=…&end=…), the current chapter, and share / cite / embed.
// Runs after player.js. Without it the page still works: the clip plays from its media
// fragment (#t=start,end), and every link, citation and embed code is plain text to copy.
(function () {
  "use strict";
  var box = document.querySelector(".player");
  var video = document.getElementById("player");

  function clock(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
  }

  function make(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text) el.textContent = text;
    return el;
  }

  // ---- a clip: show its range, pause at its end -------------------------------------------
  if (box && video && box.getAttribute("data-end")) {
    var end = parseFloat(box.getAttribute("data-end"));
    var start = parseFloat(box.getAttribute("data-start") || "0") || 0;
    var label = "Clip " + clock(start) + "–" + clock(end);
    var armed = true;
    var embedTitle = document.querySelector(".embed-title");
    if (embedTitle) {
      embedTitle.appendChild(make("span", "clip-label", " · " + label));
    } else {
      var bar = make("div", "clip-bar");
      bar.setAttribute("role", "group");
      bar.setAttribute("aria-label", "Clip");
      bar.appendChild(make("span", "clip-label", label));
      var track = make("div", "clip-track");
      track.setAttribute("aria-hidden", "true");
      var range = make("div", "clip-range");
      var head = make("div", "clip-head");
      track.appendChild(range);
      track.appendChild(head);
      bar.appendChild(track);
      var again = make("button", "", "Play the clip");
      again.type = "button";
      again.addEventListener("click", function () {
        armed = true;
        video.currentTime = start;
        video.play();
      });
      bar.appendChild(again);
      box.insertBefore(bar, video.nextSibling);
      var place = function () {
        if (!video.duration || !isFinite(video.duration)) return;
        var d = video.duration;
        range.style.left = (100 * Math.min(start, d) / d) + "%";
        range.style.width = (100 * (Math.min(end, d) - Math.min(start, d)) / d) + "%";
        head.style.left = (100 * Math.min(video.currentTime, d) / d) + "%";
      };
      video.addEventListener("loadedmetadata", place);
      video.addEventListener("timeupdate", place);
      place();
    }
    video.addEventListener("timeupdate", function () {
      if (armed && video.currentTime >= end) {
        armed = false;
        video.pause();
        video.currentTime = end;
      }
    });
    video.addEventListener("seeked", function () {
      if (video.currentTime < end - 0.25) armed = true;
    });
  }

  // ---- the chapter playing now, from the WebVTT chapters track --------------------------------
  var chapterTrack = video && video.querySelector("track[kind=chapters]");
  if (chapterTrack && chapterTrack.track) {
    var textTrack = chapterTrack.track;
    textTrack.mode = "hidden"; // load the cues without drawing them
    var now = make("span", "chapter-now");
    var controls = box.querySelector(".player-controls");
    if (controls) controls.appendChild(now);
    var links = document.querySelectorAll(".chapters [data-seek]");
    textTrack.addEventListener("cuechange", function () {
      var cue = textTrack.activeCues && textTrack.activeCues[0];
      now.textContent = cue ? "Chapter: " + cue.text : "";
      var at = cue ? String(Math.round(cue.startTime)) : null;
      links.forEach(function (a) {
        if (a.getAttribute("data-seek") === at) a.setAttribute("aria-current", "true");
        else a.removeAttribute("aria-current");
      });
    });
  }

  // ---- share, cite and embed ------------------------------------------------------------------
  var share = document.querySelector("section.share");
  if (!share) return;
  var status = share.querySelector(".share-status");
  var field = function (id) { return document.getElementById(id); };

  function say(text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function copy(el) {
    var text = el.value;
    function fallback() {
      el.focus();
      el.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      return ok;
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, fallback);
    }
    return Promise.resolve(fallback());
  }

  share.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var el = field(button.getAttribute("data-copy"));
      copy(el).then(function (ok) {
        say(ok ? "Copied." : "Press Ctrl+C (⌘C on a Mac) to copy the selected text.");
        if (!ok) { el.focus(); el.select(); }
      });
    });
  });

  var moment = field("share-moment");
  if (!moment || !video) return;
  moment.hidden = false;
  function attr(s) {
    return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }
  moment.addEventListener("click", function () {
    var t = Math.floor(video.currentTime || 0);
    var query = t > 0 ? "?t=" + t : "";
    var url = share.getAttribute("data-canonical") + query;
    var embedUrl = share.getAttribute("data-embed") + query;
    field("share-link").value = url;
    field("share-cite").value = share.getAttribute("data-cite-before") +
      (t > 0 ? ", at " + clock(t) : "") + ". " + url;
    var embed = field("share-embed");
    embed.value = embed.value.replace(/src="[^"]*"/, 'src="' + attr(embedUrl) + '"');
    field("share-when").textContent = t > 0 ? "These links start at " + clock(t) + "."
      : "These links start at the beginning.";
    copy(field("share-link")).then(function (ok) {
      say(ok ? "Link to " + clock(t) + " copied." : "Link to " + clock(t) + " ready: press Ctrl+C to copy it.");
    });
  });
})();

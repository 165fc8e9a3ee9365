// vod search box: suggestions as you type (titles and speakers), as an ARIA 1.2 combobox.
// Without this script the box is a plain search field that still searches. (Filters do not
// apply on tick: a page change on input surprises keyboard and screen-reader users, WCAG 3.2.2.)
(function () {
  "use strict";

  var DELAY_MS = 120; // wait for a pause in typing before asking
  var MIN_CHARS = 2;

  function enhance(input) {
    var url = input.getAttribute("data-suggest");
    var form = input.form;
    if (!url || !form || !window.fetch) return;
    var listId = input.id + "-suggestions";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    input.parentNode.appendChild(list);
    input.parentNode.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var items = [];
    var active = -1;
    var timer = null;
    var pending = null;
    var asked = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(n) {
      var options = list.children;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === n ? "true" : "false");
      }
      active = n;
      if (n >= 0) {
        input.setAttribute("aria-activedescendant", options[n].id);
        options[n].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "suggestion suggestion-" + s.kind;
        var kind = document.createElement("span");
        kind.className = "suggestion-kind";
        kind.textContent = s.kind === "speaker" ? "Speaker" : "Talk";
        li.appendChild(kind);
        li.appendChild(document.createTextNode(" " + s.label));
        if (s.events && s.events.length) {
          // A title several events share is listed once, with each event.
          var events = document.createElement("span");
          events.className = "suggestion-events";
          events.textContent = " (" + s.events.join(", ") + ")";
          li.appendChild(events);
        }
        // mousedown, not click: the input must not lose the list before the choice lands.
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); go(i); });
        list.appendChild(li);
      });
      active = -1;
      if (found.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = found.length + (found.length === 1 ? " suggestion" : " suggestions") +
          "; use the up and down arrows to choose.";
      } else {
        close();
        status.textContent = "";
      }
    }

    function go(n) {
      var s = items[n];
      if (s) window.location.href = s.url;
    }

    function ask() {
      var text = input.value.trim();
      if (text.length < MIN_CHARS) { asked = ""; show([]); return; }
      if (text === asked) return;
      asked = text;
      if (pending && pending.abort) pending.abort();
      pending = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" },
        signal: pending ? pending.signal : undefined
      }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (body) {
          if (input.value.trim() === text && document.activeElement === input) {
            show(body.suggestions || []);
          }
        })
        .catch(function () { /* aborted or offline: the box still searches */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (ev) {
      var open = !list.hidden && items.length;
      if (ev.key === "ArrowDown") {
        if (!open) { asked = ""; ask(); return; }
        ev.preventDefault();
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (ev.key === "ArrowUp") {
        if (!open) return;
        ev.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (ev.key === "Enter") {
        if (open && active >= 0) { ev.preventDefault(); go(active); }
        // otherwise the form submits: a search for what was typed
      } else if (ev.key === "Escape") {
        if (open) { ev.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.querySelectorAll("input[data-suggest]").forEach(enhance);

})();

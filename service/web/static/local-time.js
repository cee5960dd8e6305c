// Your time: every <time datetime="...Z"> on the page is rewritten in the viewer's zone
// (Intl.DateTimeFormat), with a zone picker remembered in localStorage and countdowns.
// Progressive enhancement: without this script the server's text stays (UTC, or the zone
// of the page's ?tz=Area/City), and the circuit's own time is shown beside it anyway.
//
// Markup it understands (all optional, any number):
//   <time datetime="2023-06-04T09:30:00Z">Sun 4 June 09:30 UTC</time>
//       -> text becomes "Sun 4 June 05:30 EDT" in New York; the server's text moves to the
//          title. A <time> whose datetime has no Z (a date, a wall time) is left alone.
//   <form data-zone-picker><select name="tz">...</select><button data-no-js>...</form>
//       -> choosing a zone re-renders every time on the page and is remembered
//   <time datetime="...Z" data-countdown>...</time>
//       -> its text becomes "in 3 days 4 h" / "in 2 h 5 min" / "started", every 30 s
//   <span data-your-zone></span> -> the zone in use, e.g. "America/New York"
// Include with <script src=".../local-time.js" defer> (no inline script: strict CSP).
(function () {
  "use strict";

  var STORAGE_KEY = "gridfeed.tz";

  function validZone(name) {
    if (!name) return false;
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: name });
      return true;
    } catch (e) {
      return false;
    }
  }

  function storedZone() {
    try {
      return window.localStorage.getItem(STORAGE_KEY);
    } catch (e) {
      return null; // storage blocked (private mode, sandboxed iframe): fall back quietly
    }
  }

  function remember(name) {
    try {
      if (name) window.localStorage.setItem(STORAGE_KEY, name);
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch (e) {
      /* not remembered; still applied to this page */
    }
  }

  function browserZone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  }

  // The zone in use: the page's ?tz= (a shared link) wins, then the remembered choice,
  // then the browser's own zone.
  function currentZone() {
    var fromUrl = new URLSearchParams(window.location.search).get("tz");
    if (validZone(fromUrl)) return fromUrl;
    var saved = storedZone();
    if (validZone(saved)) return saved;
    return browserZone();
  }

  // The site's one date style, as the server writes it: "Sun 4 June 05:30 EDT".
  function formatInstant(date, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      weekday: "short",
      day: "numeric",
      month: "long",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    })
      .formatToParts(date)
      .forEach(function (p) {
        parts[p.type] = p.value;
      });
    return (
      parts.weekday + " " + parts.day + " " + parts.month + " " +
      parts.hour + ":" + parts.minute + " " + zoneName(date, zone, parts.timeZoneName)
    );
  }

  // en-US names American zones (EDT) but writes "GMT+1" for London; en-GB names British and
  // central European ones (BST, CEST). Take whichever gives a name, else the offset.
  function zoneName(date, zone, american) {
    if (!/^GMT[+-]/.test(american)) return american;
    var british = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "short" })
      .formatToParts(date)
      .filter(function (p) { return p.type === "timeZoneName"; })[0];
    return british && !/^(GMT|UTC)[+-]/.test(british.value) ? british.value : american;
  }

  function instantOf(el) {
    var value = el.getAttribute("datetime") || "";
    if (!/Z$/.test(value)) return null; // a date or a wall time: nothing to convert
    var date = new Date(value);
    return isNaN(date.getTime()) ? null : date;
  }

  function renderTimes(zone) {
    document.querySelectorAll('time[datetime$="Z"]:not([data-countdown])').forEach(function (el) {
      var date = instantOf(el);
      if (!date) return;
      if (!el.hasAttribute("data-server-text")) {
        el.setAttribute("data-server-text", el.textContent);
        el.title = el.textContent;
      }
      el.textContent = formatInstant(date, zone);
      el.setAttribute("data-zone", zone);
    });
    document.querySelectorAll("[data-your-zone]").forEach(function (el) {
      el.textContent = zone.replace(/_/g, " ");
    });
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function describeCountdown(ms) {
    if (ms <= 0) return "started";
    var minutes = Math.floor(ms / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days > 0) return "in " + plural(days, "day") + " " + hours + " h";
    if (hours > 0) return "in " + hours + " h " + mins + " min";
    return "in " + Math.max(mins, 1) + " min";
  }

  function renderCountdowns() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var date = instantOf(el);
      if (date) el.textContent = describeCountdown(date.getTime() - now);
    });
  }

  function setupPicker(zone) {
    document.querySelectorAll("form[data-zone-picker]").forEach(function (form) {
      var select = form.querySelector("select");
      if (!select) return;
      if (!Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) {
        var option = document.createElement("option");
        option.value = zone;
        option.textContent = zone.replace(/_/g, " ");
        select.insertBefore(option, select.firstChild);
      }
      select.value = zone;
      // With the script the choice applies at once; the submit button is for no-JS only.
      form.querySelectorAll("[data-no-js]").forEach(function (b) { b.hidden = true; });
      select.addEventListener("change", function () {
        var chosen = select.value;
        if (!validZone(chosen)) return;
        remember(chosen);
        // Keep a shared ?tz= link from overriding the new choice on reload.
        var url = new URL(window.location.href);
        if (url.searchParams.has("tz")) {
          url.searchParams.set("tz", chosen);
          window.history.replaceState(null, "", url.toString());
        }
        document.querySelectorAll("form[data-zone-picker] select").forEach(function (s) {
          s.value = chosen;
        });
        renderTimes(chosen);
      });
    });
  }

  function start() {
    var zone = currentZone();
    setupPicker(zone);
    renderTimes(zone);
    renderCountdowns();
    if (document.querySelector("[data-countdown]")) window.setInterval(renderCountdowns, 30000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

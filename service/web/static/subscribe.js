// The subscribe panel: build a calendar URL from ticked options and update every link live.
// Without this script the same <form method="get"> submits to the page, and the server
// renders the same URL and links (service/web/subscribe.py is the reference for the rules).
//
// Markup (see service/web/templates/_subscribe.html):
//   <form data-subscribe data-feed-url="https://host/x/calendar.ics" data-name="Calendar name"
//         data-qr-url="/subscribe/qr.svg">
//     <input type="checkbox" name="include" value="race"> ...   (all or none ticked: no filter)
//     <input type="checkbox" name="alarm" value="30"> ...       (several allowed)
//     <input type="radio" name="zone" value="utc"> ...          (anything else: circuit time)
//     <input data-sub-url readonly>  <a data-sub-link="webcal|google|outlook|office">
//     <img data-sub-qr>  <button type="button" data-sub-copy hidden>  <span data-sub-copied>
(function () {
  "use strict";

  var GOOGLE = "https://calendar.google.com/calendar/r?cid=";
  var OUTLOOK = "https://outlook.live.com/calendar/0/addfromweb";
  var OFFICE = "https://outlook.office.com/calendar/0/addfromweb";

  function checked(form, name) {
    return Array.prototype.filter
      .call(form.querySelectorAll('input[name="' + name + '"]'), function (i) { return i.checked; })
      .map(function (i) { return i.value; });
  }

  function allOf(form, name) {
    return form.querySelectorAll('input[name="' + name + '"]').length;
  }

  // Same order as the server's canonical URL: include (sorted), alarm (numeric), tz=utc.
  function calendarUrl(form) {
    var query = [];
    var kinds = checked(form, "include").sort();
    if (kinds.length && kinds.length < allOf(form, "include")) {
      kinds.forEach(function (k) { query.push("include=" + encodeURIComponent(k)); });
    }
    checked(form, "alarm")
      .map(Number)
      .filter(function (m) { return m > 0; })
      .sort(function (a, b) { return a - b; })
      .forEach(function (m) { query.push("alarm=" + m); });
    if (checked(form, "zone").indexOf("utc") !== -1) query.push("tz=utc");
    var base = form.getAttribute("data-feed-url");
    return base + (query.length ? "?" + query.join("&") : "");
  }

  function links(url, name) {
    var encoded = encodeURIComponent(url);
    var named = "?url=" + encoded + "&name=" + encodeURIComponent(name);
    return {
      webcal: url.replace(/^https?:/, "webcal:"),
      google: GOOGLE + encoded,
      outlook: OUTLOOK + named,
      office: OFFICE + named,
    };
  }

  function update(form) {
    var url = calendarUrl(form);
    var all = links(url, form.getAttribute("data-name") || "gridfeed");
    form.querySelectorAll("[data-sub-url]").forEach(function (el) {
      if ("value" in el && el.tagName !== "OUTPUT") el.value = url;
      else el.textContent = url;
    });
    form.querySelectorAll("[data-sub-link]").forEach(function (a) {
      var kind = a.getAttribute("data-sub-link");
      if (all[kind]) a.href = all[kind];
    });
    var qr = form.getAttribute("data-qr-url");
    form.querySelectorAll("img[data-sub-qr]").forEach(function (img) {
      if (qr) img.src = qr + "?url=" + encodeURIComponent(url);
    });
  }

  function copy(form, button) {
    var field = form.querySelector("[data-sub-url]");
    var url = field && (field.value || field.textContent);
    var status = form.querySelector("[data-sub-copied]");
    function done(message) {
      if (status) status.textContent = message;
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(
        function () { done("Copied."); },
        function () { done("Select the address and copy it."); }
      );
    } else if (field && field.select) {
      field.select();
      done(document.execCommand && document.execCommand("copy") ? "Copied." : "Press Ctrl+C to copy.");
    }
  }

  function setup(form) {
    form.addEventListener("change", function () { update(form); });
    form.querySelectorAll("[data-sub-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(form, button); });
    });
    // The live URL makes the no-JS "Show my link" button unnecessary.
    form.querySelectorAll("[data-no-js]").forEach(function (el) { el.hidden = true; });
    update(form);
  }

  function start() {
    document.querySelectorAll("form[data-subscribe]").forEach(setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// Basalt fleet UI: small progressive enhancements. Everything from the server goes into the DOM with textContent.
"use strict";
(function () {
  document.querySelectorAll("select[data-nav]").forEach(function (s) {
    s.addEventListener("change", function () {
      if (s.value && s.value.charAt(0) === "/" && s.value.charAt(1) !== "/") window.location.assign(s.value);
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  var root = document.getElementById("rollout");
  if (!root || !window.EventSource) return;
  var live = document.getElementById("live");
  var tones = ["ok", "warn", "bad", "info", "none"];

  function setTone(el, tone) {
    tones.forEach(function (t) { el.classList.remove("b-" + t); });
    el.classList.add("b-" + tone);
  }
  function eventTone(type) {
    var t = String(type).toUpperCase();
    if (t.indexOf("FAIL") >= 0 || t.indexOf("ABORT") >= 0 || t.indexOf("EXCEEDED") >= 0) return "bad";
    if (t.indexOf("REVERT") >= 0 || t.indexOf("PAUSE") >= 0 || t.indexOf("WAIT") >= 0 || t.indexOf("WITHDRAWN") >= 0) return "warn";
    if (t.indexOf("SUCCEEDED") >= 0 || t.indexOf("APPROVED") >= 0) return "ok";
    return "none";
  }
  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text;
    return td;
  }
  function addEvent(tbody, e) {
    if (tbody.querySelector('tr[data-event-id="' + Number(e.id) + '"]')) return;
    var tr = document.createElement("tr");
    tr.setAttribute("data-event-id", String(Number(e.id)));
    tr.className = "fresh";
    tr.appendChild(cell(e.time));
    var type = document.createElement("td");
    var span = document.createElement("span");
    span.className = "ev ev-" + eventTone(e.type);
    span.textContent = e.type;
    type.appendChild(span);
    tr.appendChild(type);
    var wave = cell(e.wave);
    wave.className = "num";
    tr.appendChild(wave);
    var dev = document.createElement("td");
    if (e.device) {
      var a = document.createElement("a");
      a.href = "/devices/" + encodeURIComponent(e.device);
      a.textContent = e.device;
      dev.appendChild(a);
    }
    tr.appendChild(dev);
    tr.appendChild(cell(e.message));
    tbody.insertBefore(tr, tbody.firstChild);
    while (tbody.rows.length > 500) tbody.deleteRow(tbody.rows.length - 1);
  }
  function apply(s) {
    var rows = document.querySelectorAll("tr[data-wave-row]");
    if (rows.length !== s.waves.length) { window.location.reload(); return; }
    var phase = document.getElementById("phase");
    phase.textContent = String(s.phase).toLowerCase().replace(/_/g, " ");
    setTone(phase, s.tone);
    document.getElementById("reason").textContent = s.reason || "—";
    document.getElementById("waves-done").textContent = s.succeededWaves;
    document.getElementById("waves-released").textContent = s.releasedWaves;
    document.getElementById("total-devices").textContent = s.devices;
    s.waves.forEach(function (w) {
      var sel = '[data-wave="' + Number(w.index) + '"]';
      var status = document.querySelector(sel + '[data-field="status"]');
      status.textContent = w.status;
      setTone(status, w.status === "done" ? "ok" : w.status === "active" ? "info" : "none");
      document.querySelector(sel + '[data-field="devices"]').textContent = w.devices;
      var p = document.querySelector(sel + '[data-field="progress"]');
      p.max = Math.max(1, w.devices);
      p.value = w.counts.SUCCEEDED || 0;
      Object.keys(w.counts).forEach(function (stage) {
        var td = document.querySelector(sel + '[data-stage="' + stage.replace(/[^A-Z_]/g, "") + '"]');
        if (!td) return;
        td.textContent = w.counts[stage];
        td.classList.toggle("zero", !w.counts[stage]);
      });
    });
    Object.keys(s.totals).forEach(function (stage) {
      var td = document.querySelector('[data-total="' + stage.replace(/[^A-Z_]/g, "") + '"]');
      if (td) td.textContent = s.totals[stage];
    });
    var tbody = document.querySelector("#events tbody");
    s.events.forEach(function (e) { addEvent(tbody, e); });
    root.setAttribute("data-updates", String(Number(root.getAttribute("data-updates") || "0") + 1));
  }

  var es = new EventSource(root.getAttribute("data-stream"));
  es.addEventListener("open", function () { live.textContent = "live"; live.className = "live on"; });
  es.addEventListener("error", function () { live.textContent = "reconnecting…"; live.className = "live off"; });
  es.addEventListener("state", function (m) { apply(JSON.parse(m.data)); });
  es.addEventListener("signed-out", function () { es.close(); window.location.assign("/login"); });
})();

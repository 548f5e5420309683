// Live events of the portals.
//
// Every page of a company's user arrives server-rendered; then one WebSocket carries that user's events:
//   {"type": "call.state", ...}                 the MyIstra call banner and call history;
//   {"type": "voicemail.count", "unread": N}    the voicemail badge of the nav (on every page) and the
//                                               message list of the voicemail page;
//   {"type": "settings.changed", "dnd": bool, "presence": "..."}
//                                               the presence bar of MyIstra's pages (a dial code such as
//                                               *8 on a desk phone, another browser, the API), and the
//                                               forwarding rules list (*2 103 adds a rule).
// Each time the socket (re)connects, what the page shows is fetched again, since events sent while it
// was down are lost.
(function () {
  "use strict";

  const config = document.body.dataset;
  if (!config.liveWs) return;

  const MIN_DELAY = 1000;
  const MAX_DELAY = 30000;
  const handlers = {}; // event type -> function(event)
  const resyncs = []; // run each time the socket opens, with true the first time

  // Connection state, visible to the page's own tests and to anyone debugging in the console.
  const status = (window.istraLive = { connected: false });

  function loginLost(response) {
    if (response.status === 401 || response.status === 403) {
      window.location.reload(); // logged out: the page itself will send us to the login form
      return true;
    }
    return false;
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function fragment(html, selector) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.querySelector(selector);
  }

  // --- The call banner and the call history (MyIstra) ---------------------------------------------

  function setUpCallBanner() {
    const banner = document.getElementById("call-banner");
    if (!banner) return;
    const text = document.getElementById("call-banner-text");
    const duration = document.getElementById("call-duration");
    const texts = {
      ringing_incoming: banner.dataset.textRingingIncoming,
      ringing_outgoing: banner.dataset.textRingingOutgoing,
      answered: banner.dataset.textAnswered,
    };

    let current = null; // the call the banner shows, as the last event or snapshot described it
    let timer = null;
    let eventsSeen = 0;

    function peerLabel(call) {
      if (call.peer_name && call.peer_number) return call.peer_name + " (" + call.peer_number + ")";
      return call.peer_name || call.peer_number || "";
    }

    function mmss(totalSeconds) {
      const hours = Math.floor(totalSeconds / 3600);
      const minutes = Math.floor((totalSeconds % 3600) / 60);
      const seconds = totalSeconds % 60;
      const pad = (n) => String(n).padStart(2, "0");
      return hours ? hours + ":" + pad(minutes) + ":" + pad(seconds) : pad(minutes) + ":" + pad(seconds);
    }

    function tick() {
      if (!current || !current.answered_at) return;
      const elapsed = Math.floor((Date.now() - Date.parse(current.answered_at)) / 1000);
      duration.textContent = mmss(Math.max(0, elapsed));
    }

    function stopTimer() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    }

    function show(call) {
      current = call;
      const key = call.state === "answered" ? "answered" : "ringing_" + call.direction;
      text.textContent = (texts[key] || "").replace("{peer}", peerLabel(call));
      banner.className = "call-banner " + call.state;
      banner.hidden = false;
      stopTimer();
      if (call.state === "answered" && call.answered_at) {
        duration.hidden = false;
        tick();
        timer = setInterval(tick, 1000);
      } else {
        duration.hidden = true;
        duration.textContent = "";
      }
    }

    function hide() {
      current = null;
      stopTimer();
      banner.hidden = true;
      banner.className = "call-banner";
      text.textContent = "";
      duration.hidden = true;
      duration.textContent = "";
    }

    async function refreshHistory() {
      const response = await fetch(banner.dataset.historyUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = fragment(await response.text(), "#history");
      const old = document.getElementById("history");
      if (fresh && old) old.replaceWith(fresh);
    }

    async function refreshSnapshot() {
      const seen = eventsSeen;
      const response = await fetch(banner.dataset.snapshotUrl, { credentials: "same-origin" });
      if (loginLost(response) || !response.ok) return;
      const data = await response.json();
      // An event that arrived while the snapshot was on its way may be newer than it: ask again.
      if (seen !== eventsSeen) return refreshSnapshot();
      if (data.call) show(data.call);
      else hide();
    }

    handlers["call.state"] = (event) => {
      eventsSeen += 1;
      if (event.state === "ended") {
        if (!current || current.call_id === event.call_id) hide();
        refreshHistory().catch(() => {});
        // The user may be in another call still (a second line, a transfer): the snapshot says.
        refreshSnapshot().catch(() => {});
        return;
      }
      show(event);
    };
    resyncs.push((first) => {
      refreshSnapshot().catch(() => {});
      if (!first) refreshHistory().catch(() => {});
    });

    const initial = JSON.parse(document.getElementById("call-snapshot").textContent);
    if (initial.call) show(initial.call);
  }

  // --- Voicemail: the nav badge (every page) and the message list (the voicemail page) -------------

  function setUpVoicemail() {
    const badge = document.getElementById("voicemail-badge");
    const section = document.getElementById("voicemail-section");
    let countsSeen = 0;
    let listBusy = false;
    let listAgain = false;

    function setBadge(unread) {
      if (!badge) return;
      const count = Number(unread) || 0;
      badge.textContent = String(count);
      badge.hidden = count === 0;
    }

    async function refreshCount() {
      const seen = countsSeen;
      const response = await fetch(config.liveUnreadUrl, { credentials: "same-origin" });
      if (loginLost(response) || !response.ok) return;
      const data = await response.json();
      if (seen !== countsSeen) return; // something newer than this answer set the badge meanwhile
      setBadge(data.unread);
    }

    // A row the page has already keeps its audio cell, so a message being listened to goes on playing.
    function updateRow(row, freshRow) {
      row.className = freshRow.className;
      row.dataset.unread = freshRow.dataset.unread;
      row.dataset.readUrl = freshRow.dataset.readUrl;
      Array.from(freshRow.cells).forEach((cell, index) => {
        const old = row.cells[index];
        if (!old) row.appendChild(cell);
        else if (!cell.classList.contains("audio")) old.replaceWith(cell);
      });
    }

    function mergeList(html) {
      const fresh = fragment(html, "#voicemail-list");
      const table = document.getElementById("voicemail-list");
      if (!fresh || !table) return;
      const body = table.tBodies[0];
      const freshRows = Array.from(fresh.tBodies[0].rows);
      const freshIds = new Set(freshRows.map((row) => row.dataset.messageId).filter(Boolean));
      for (const row of Array.from(body.rows)) {
        if (!row.dataset.messageId || !freshIds.has(row.dataset.messageId)) row.remove();
      }
      const kept = new Map(Array.from(body.rows).map((row) => [row.dataset.messageId, row]));
      let previous = null;
      for (const freshRow of freshRows) {
        let row = kept.get(freshRow.dataset.messageId);
        if (row) updateRow(row, freshRow);
        else row = freshRow;
        // Move a row only when it is out of place: moving an <audio> element would pause it.
        const expected = previous ? previous.nextElementSibling : body.firstElementChild;
        if (expected !== row) body.insertBefore(row, expected);
        previous = row;
      }
      table.dataset.unread = fresh.dataset.unread;
      countsSeen += 1;
      setBadge(fresh.dataset.unread);
    }

    // One list request at a time; asked again meanwhile, one more follows, which is then the newest.
    async function refreshList() {
      if (!section) return;
      if (listBusy) {
        listAgain = true;
        return;
      }
      listBusy = true;
      try {
        do {
          listAgain = false;
          const response = await fetch(section.dataset.listUrl, { credentials: "same-origin" });
          if (response.ok) mergeList(await response.text());
        } while (listAgain);
      } finally {
        listBusy = false;
      }
    }

    // The answer to a read or delete is the fresh list.
    async function post(url, body) {
      const response = await fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() },
      });
      if (loginLost(response)) return;
      if (!response.ok) throw new Error("HTTP " + response.status);
      mergeList(await response.text());
    }

    handlers["voicemail.count"] = (event) => {
      countsSeen += 1;
      setBadge(event.unread);
      refreshList().catch(() => {});
    };
    resyncs.push(() => {
      refreshCount().catch(() => {});
      refreshList().catch(() => {});
    });

    if (!section) return;
    section.addEventListener("submit", (event) => {
      const form = event.target.closest("form.voicemail-action");
      if (!form) return;
      event.preventDefault();
      post(form.action, new FormData(form)).catch(() => form.submit());
    });
    // Listening to a message reads it. "play" does not bubble, hence the capture.
    document.addEventListener(
      "play",
      (event) => {
        const row = event.target.closest ? event.target.closest("tr.voicemail-row") : null;
        if (!row || row.dataset.unread !== "true") return;
        row.dataset.unread = "pending";
        const body = new FormData();
        body.append("csrfmiddlewaretoken", csrfToken());
        post(row.dataset.readUrl, body).catch(() => {
          row.dataset.unread = "true";
        });
      },
      true,
    );
  }

  // --- Presence and do not disturb (MyIstra's pages), the forwarding rules list --------------------

  function setUpSettings() {
    const bar = document.getElementById("status-bar");
    const listUrl = document.getElementById("forwarding-rules")?.dataset.listUrl;
    if (!bar && !listUrl) return;
    const dndState = document.getElementById("dnd-state");
    const dndToggle = document.getElementById("dnd-toggle");
    const dndValue = document.getElementById("dnd-value");
    const presence = document.getElementById("presence");
    let statusSeen = 0;

    function show(status) {
      if (dndState && typeof status.dnd === "boolean") {
        const on = status.dnd;
        dndState.dataset.dnd = on ? "on" : "off";
        dndState.textContent = on ? dndState.dataset.textOn : dndState.dataset.textOff;
        dndToggle.textContent = on ? dndToggle.dataset.textOn : dndToggle.dataset.textOff;
        dndToggle.setAttribute("aria-checked", on ? "true" : "false");
        dndValue.value = on ? "off" : "on"; // what pressing the toggle asks for next
      }
      if (presence && status.presence) presence.value = status.presence;
    }

    async function refreshStatus() {
      const seen = statusSeen;
      const response = await fetch(bar.dataset.statusUrl, { credentials: "same-origin" });
      if (loginLost(response) || !response.ok) return;
      const data = await response.json();
      if (seen !== statusSeen) return; // an event newer than this answer already showed the state
      show(data);
    }

    async function refreshRules() {
      const response = await fetch(listUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = fragment(await response.text(), "#forwarding-rules");
      const old = document.getElementById("forwarding-rules");
      if (fresh && old) old.replaceWith(fresh);
    }

    // The answer to a presence or DND change is the new state.
    async function post(form) {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() },
      });
      if (loginLost(response)) return;
      if (!response.ok) throw new Error("HTTP " + response.status);
      statusSeen += 1;
      show(await response.json());
    }

    handlers["settings.changed"] = (event) => {
      statusSeen += 1;
      show(event);
      if (listUrl) refreshRules().catch(() => {});
    };
    resyncs.push((first) => {
      if (bar) refreshStatus().catch(() => {});
      if (listUrl && !first) refreshRules().catch(() => {});
    });

    if (!bar) return;
    for (const form of [document.getElementById("presence-form"), document.getElementById("dnd-form")]) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        post(form).catch(() => form.submit());
      });
    }
    presence.addEventListener("change", () => presence.form.requestSubmit());
  }

  // --- The socket --------------------------------------------------------------------------------

  let delay = MIN_DELAY;
  let connectedOnce = false;

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + config.liveWs);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      status.connected = true;
      delay = MIN_DELAY;
      const first = !connectedOnce;
      connectedOnce = true;
      resyncs.forEach((resync) => resync(first));
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      const handler = handlers[event.type];
      if (handler) handler(event);
    });
    socket.addEventListener("close", () => {
      status.connected = false;
      // A refused handshake looks like any network error; a plain request tells a lost login apart.
      if (!opened) {
        fetch(config.liveUnreadUrl, { credentials: "same-origin" })
          .then(loginLost)
          .catch(() => {});
      }
      // Back off (with jitter, so a restarted server is not hit by every browser at once), then retry.
      const wait = delay / 2 + Math.random() * (delay / 2);
      delay = Math.min(delay * 2, MAX_DELAY);
      setTimeout(connect, wait);
    });
  }

  setUpCallBanner();
  setUpVoicemail();
  setUpSettings();
  connect();
})();

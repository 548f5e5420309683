// The company directory (myCompany), live.
//
// The page arrives server-rendered; then a WebSocket on /ws/live/?directory=1 (the user's live socket,
// which also joins their company's group) carries each colleague's status change:
//   {"type": "directory.status", "extension": "102", "presence": "meeting" | null, "dnd": true | null,
//    "phone_state": "idle" | "ringing" | "in_call" | "unavailable" | null}
// where null means "unchanged" (a phone state change says nothing of presence, and the other way round).
// Each time the socket (re)connects, every line's status is fetched again, since events sent while it
// was down are lost. The search box filters the lines at once; submitting it asks the server.
// live.js keeps its own socket for the rest of the page (the voicemail badge): it cannot lend it.
(function () {
  "use strict";

  const section = document.getElementById("directory-section");
  const table = document.getElementById("directory");
  if (!section || !table) return;
  const labels = JSON.parse(document.getElementById("directory-labels").textContent);
  const search = document.getElementById("directory-search");
  const empty = document.getElementById("directory-empty");
  const feedback = document.getElementById("directory-feedback");

  const MIN_DELAY = 1000;
  const MAX_DELAY = 30000;
  // Connection state, for the page's tests and anyone debugging in the console.
  const status = (window.istraDirectory = { connected: false, events: 0 });

  function rowOf(extension) {
    if (!extension) return null;
    return table.querySelector('tr[data-extension="' + CSS.escape(String(extension)) + '"]');
  }

  function apply(line) {
    const row = rowOf(line.extension);
    if (!row) return; // not shown: another search, or a colleague added since the page loaded
    if (typeof line.presence === "string") {
      row.dataset.presence = line.presence;
      row.querySelector(".presence").textContent = labels.presence[line.presence] || line.presence;
    }
    if (typeof line.dnd === "boolean") {
      row.dataset.dnd = line.dnd ? "1" : "0";
      row.querySelector(".dnd-marker").hidden = !line.dnd;
    }
    if (typeof line.phone_state === "string") {
      row.dataset.phoneState = line.phone_state;
      row.querySelector(".phone-state").textContent = labels.phone_state[line.phone_state] || line.phone_state;
    }
  }

  // --- Search: every word must be in the name or the extension, as the server filters ------------

  function filter() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of table.querySelectorAll("tbody tr.colleague")) {
      const text = row.dataset.search || "";
      const match = words.every((word) => text.includes(word));
      row.hidden = !match;
      if (match) shown += 1;
    }
    empty.hidden = shown !== 0;
  }

  search.addEventListener("input", filter);

  // --- Call: ring my phone, then the colleague, without leaving the page -------------------------

  function say(text, ok) {
    feedback.textContent = text;
    feedback.className = ok ? "message" : "message error";
    feedback.hidden = false;
  }

  table.addEventListener("submit", (event) => {
    const form = event.target.closest("form.call-form");
    if (!form) return;
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then((response) => {
        if (response.status === 401 || response.status === 403) {
          window.location.reload();
          return null;
        }
        return response.json();
      })
      .then((data) => {
        if (data) say(data.message, data.ok);
      })
      .catch(() => form.submit());
  });

  // --- The socket --------------------------------------------------------------------------------

  async function refreshStatus() {
    const seen = status.events;
    const response = await fetch(section.dataset.statusUrl, { credentials: "same-origin" });
    if (response.status === 401 || response.status === 403) {
      window.location.reload(); // logged out: the page itself will send us to the login form
      return;
    }
    if (!response.ok) return;
    const data = await response.json();
    // An event that arrived while the answer was on its way may be newer than it: ask again.
    if (seen !== status.events) return refreshStatus();
    data.colleagues.forEach(apply);
  }

  let delay = MIN_DELAY;

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + section.dataset.liveWs);
    socket.addEventListener("open", () => {
      status.connected = true;
      delay = MIN_DELAY;
      refreshStatus().catch(() => {});
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event.type !== "directory.status") return; // the user's own events are live.js's
      status.events += 1;
      apply(event);
    });
    socket.addEventListener("close", () => {
      status.connected = false;
      // Back off with jitter, so a restarted server is not hit by every browser at once.
      const wait = delay / 2 + Math.random() * (delay / 2);
      delay = Math.min(delay * 2, MAX_DELAY);
      setTimeout(connect, wait);
    });
  }

  connect();
})();

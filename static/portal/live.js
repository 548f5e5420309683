// The live call banner of MyIstra.
//
// The page arrives with a server-rendered snapshot (#call-snapshot); then one WebSocket carries
// {"type": "call.state", ...} events. Each time the socket (re)connects, the snapshot is fetched
// again, since events sent while it was down are lost.
(function () {
  "use strict";

  const banner = document.getElementById("call-banner");
  if (!banner) return;
  const text = document.getElementById("call-banner-text");
  const duration = document.getElementById("call-duration");
  const texts = {
    ringing_incoming: banner.dataset.textRingingIncoming,
    ringing_outgoing: banner.dataset.textRingingOutgoing,
    answered: banner.dataset.textAnswered,
  };
  const MIN_DELAY = 1000;
  const MAX_DELAY = 30000;

  let current = null; // the call the banner shows, as the last event or snapshot described it
  let timer = null;
  let eventsSeen = 0;
  let delay = MIN_DELAY;
  let connectedOnce = false;

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
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    const fresh = template.content.querySelector("#history");
    const old = document.getElementById("history");
    if (fresh && old) old.replaceWith(fresh);
  }

  async function refreshSnapshot() {
    const seen = eventsSeen;
    const response = await fetch(banner.dataset.snapshotUrl, { credentials: "same-origin" });
    if (response.status === 401 || response.status === 403) {
      window.location.reload(); // logged out: the page itself will send us to the login form
      return;
    }
    if (!response.ok) return;
    const data = await response.json();
    // An event that arrived while the snapshot was on its way may be newer than it: ask again.
    if (seen !== eventsSeen) return refreshSnapshot();
    if (data.call) show(data.call);
    else hide();
  }

  function apply(event) {
    if (event.state === "ended") {
      if (!current || current.call_id === event.call_id) hide();
      refreshHistory().catch(() => {});
      // The user may be in another call still (a second line, a transfer): the snapshot says.
      refreshSnapshot().catch(() => {});
      return;
    }
    show(event);
  }

  // Connection state, visible to the page's own tests and to anyone debugging in the console.
  const status = (window.istraLive = { connected: false });

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + banner.dataset.wsPath);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      status.connected = true;
      delay = MIN_DELAY;
      refreshSnapshot().catch(() => {});
      if (connectedOnce) refreshHistory().catch(() => {});
      connectedOnce = true;
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event.type !== "call.state") return;
      eventsSeen += 1;
      apply(event);
    });
    socket.addEventListener("close", () => {
      status.connected = false;
      // A refused handshake looks like any network error; the snapshot URL tells a lost login apart.
      if (!opened) refreshSnapshot().catch(() => {});
      // Back off (with jitter, so a restarted server is not hit by every browser at once), then retry.
      const wait = delay / 2 + Math.random() * (delay / 2);
      delay = Math.min(delay * 2, MAX_DELAY);
      setTimeout(connect, wait);
    });
  }

  const initial = JSON.parse(document.getElementById("call-snapshot").textContent);
  if (initial.call) show(initial.call);
  connect();
})();

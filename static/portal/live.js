// The portals' only script of their own, beside htmx (static/vendor/).
//
// 1. The one WebSocket of a page (the URL is the body's data-live-ws; the directory adds its company).
//    Each typed event becomes a DOM event on <body>, named after its type ("call.state" -> "call-state",
//    plus "call-ended" when a call ends), with the event as its detail. Partials refresh themselves
//    on these with hx-trigger="voicemail-count from:body"; each (re)connection fires
//    "live-reconnected", since events sent while the socket was down are lost. Each such partial has
//    hx-sync="this:replace": a newer event's request replaces one in flight, so none is lost.
// 2. What htmx cannot do alone: the call banner's running duration, a directory line's live status,
//    a voicemail message played in one player (and read), a confirmation dialog for destructive buttons, and
//    focus on the first error after a form comes back refused.
(function () {
  "use strict";

  const body = document.body;
  const status = (window.istraLive = { connected: false, events: 0 });

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  // --- The socket ------------------------------------------------------------------------------------

  let delay = 1000;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + body.dataset.liveWs);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      status.connected = true;
      delay = 1000;
      fire("live-reconnected", {});
    };
    socket.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      status.events += 1;
      fire(String(event.type).replace(/[._]/g, "-"), event);
      if (event.type === "call.state" && event.state === "ended") fire("call-ended", event);
    };
    socket.onclose = () => {
      status.connected = false;
      // A refused handshake looks like any network error; a page load tells a lost login apart.
      if (!opened) {
        fetch(location.href, { method: "HEAD", redirect: "manual" })
          .then((r) => r.type === "opaqueredirect" && location.reload())
          .catch(() => {});
      }
      // Back off with jitter, so a restarted server is not hit by every browser at once.
      setTimeout(connect, delay / 2 + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, 30000);
    };
  }

  // --- The call banner's duration ------------------------------------------------------------------

  function mmss(total) {
    const pad = (n) => String(n).padStart(2, "0");
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(total % 60);
  }

  setInterval(() => {
    for (const clock of document.querySelectorAll("[data-answered-at]")) {
      const seconds = Math.floor((Date.now() - Date.parse(clock.dataset.answeredAt)) / 1000);
      clock.textContent = mmss(Math.max(0, seconds));
    }
  }, 250);

  // --- A directory line's status, changed live -----------------------------------------------------

  body.addEventListener("directory-status", (event) => {
    const line = event.detail;
    const table = document.getElementById("directory");
    const row = table && table.querySelector('tr[data-extension="' + CSS.escape(String(line.extension)) + '"]');
    if (!row) return; // not shown: another search, or a colleague added since the page loaded
    const labels = JSON.parse(document.getElementById("directory-labels").textContent);
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
  });

  // The directory's search filters the lines at once; submitting it asks the server.
  body.addEventListener("input", (event) => {
    if (event.target.id !== "directory-search") return;
    const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of document.querySelectorAll("#directory tr.colleague")) {
      row.hidden = !words.every((word) => (row.dataset.search || "").includes(word));
      if (!row.hidden) shown += 1;
    }
    document.getElementById("directory-empty").hidden = shown !== 0;
  });

  // --- A voicemail message plays in the page's one player, and listening to it reads it -------------

  body.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.listen");
    const player = document.getElementById("voicemail-player");
    if (!link || !player) return;
    event.preventDefault();
    player.src = link.href;
    document.getElementById("player-box").hidden = false;
    document.getElementById("now-playing").textContent = link.dataset.caller || "";
    player.play().catch(() => {});
    const row = link.closest("tr[data-unread='true']");
    if (row && window.htmx) {
      row.dataset.unread = "pending";
      htmx.ajax("POST", row.dataset.readUrl, { target: "#voicemail-list", swap: "outerHTML" });
    }
  });

  // --- Forms: a refused form comes back where it was, its first error focused -----------------------

  function focusFirstError(root) {
    const error = root && root.querySelector("[aria-invalid='true'], .form-errors");
    if (!error) return;
    if (!error.matches("input, select, textarea")) error.setAttribute("tabindex", "-1");
    error.focus({ preventScroll: true });
    error.scrollIntoView({ block: "center" });
  }

  body.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    // A refused form (400) is shown again with its errors, in place.
    if (detail.xhr.status === 400) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
    // A card's form gets the whole page back: take the same card from it.
    if (detail.target.id && !detail.requestConfig.elt.closest("[hx-select]")) {
      detail.selectOverride = "#" + detail.target.id;
    }
  });

  body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.requestConfig.verb !== "post") return;
    focusFirstError(document.getElementById(event.detail.target.id));
  });

  // A page that comes back refused (a form sent without script) shows its first error.
  focusFirstError(document.querySelector("main"));

  // --- Copy buttons (the SIP credentials, shown once) ----------------------------------------------

  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = !navigator.clipboard;
    button.addEventListener("click", () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      navigator.clipboard.writeText(text).then(() => {
        document.getElementById("copy-status").textContent = button.dataset.copied || "✓ " + text;
      });
    });
  }

  // --- Confirmations: a dialog, instead of the confirmation page a link opens without script -------

  body.addEventListener("htmx:confirm", (event) => {
    const question = event.detail.question;
    if (!question) return;
    event.preventDefault();
    const dialog = document.getElementById("confirm-dialog");
    dialog.querySelector(".confirm-question").textContent = question;
    dialog.querySelector(".confirm-yes").textContent = event.detail.elt.dataset.confirmYes || dialog.dataset.yes;
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue === "yes") event.detail.issueRequest(true);
    };
    dialog.showModal();
  });

  if (body.dataset.liveWs) connect();
})();

/* coldcheck tablet: small progressive enhancements on server-rendered pages.
   Every form also works without this script (plain POST, redirect, page). */
(function () {
  "use strict";

  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  // The session's CSRF token goes in a header on every htmx request: after a
  // sign-in from the session dialog the form's hidden field is out of date, the
  // cookie is not.
  document.addEventListener("htmx:configRequest", function (e) {
    const token = cookie("coldcheck_csrf");
    if (token) e.detail.headers["X-CSRF-Token"] = token;
  });
  // The same for a plain form (sign-out, and any form when htmx is not there):
  // its hidden field takes the current session's token as it is sent.
  document.addEventListener("submit", function (e) {
    const field = e.target.querySelector && e.target.querySelector("input[name=csrf_token]");
    const token = cookie("coldcheck_csrf");
    if (field && token) field.value = token;
  }, true);

  // A form marked data-once (the QR poster's public page: without an account
  // there is no idempotency key) is sent once: a second tap while the first is
  // on its way does nothing (again possible after 10 s, if the network failed).
  document.addEventListener("submit", function (e) {
    const f = e.target;
    if (!f.hasAttribute || !f.hasAttribute("data-once")) return;
    if (f.dataset.sent) { e.preventDefault(); return; }
    f.dataset.sent = "1";
    setTimeout(function () { delete f.dataset.sent; }, 10000);
  });

  function focusFirst(root) {
    const el = (root || document).querySelector("[data-autofocus]");
    if (el) el.focus({ preventScroll: false });
  }
  // After any answer: the earlier "Recorded" banner goes (it spoke of the action
  // before); a problem is scrolled into view and focused, a PIN problem first.
  function showProblem(root) {
    const problems = Array.from((root || document).querySelectorAll(".problem"));
    if (!problems.length) return false;
    const pin = problems.find(function (p) { return /PIN_/.test(p.textContent); });
    const box = pin || problems[0];
    box.scrollIntoView({ block: "center" });
    box.focus({ preventScroll: true });
    return true;
  }
  document.addEventListener("htmx:beforeRequest", function () {
    document.querySelectorAll(".done").forEach(function (d) { d.remove(); });
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    const root = e.detail.target.parentNode || document;
    wire(root);
    if (e.detail.target.id === "board" || root.querySelector("#board")) wireAlarms();
    if (!showProblem(root)) focusFirst(root);
  });

  document.addEventListener("click", function (e) {
    const t = e.target.closest("[data-dismiss-problem]");
    if (t) { t.closest(".problem").classList.remove("fullscreen"); return; }
    const c = e.target.closest("[data-close-dialog]");
    if (c) { document.getElementById("session-dialog").innerHTML = ""; return; }
    const p = e.target.closest("[data-print]");
    if (p) { window.print(); }
  });

  // ---- inspection checklist: set every position at once; show the load ----
  // Every position, the barrel and the magazine are required fields: the browser
  // will not send the form until each is recorded, and the line above the button
  // says what is still unchecked. The lot list shows only lots of the kind the
  // positions hold (the server lists only the weapon's calibre); the summary
  // says HOT for blanks, whatever the positions say, and never "cold" for them.
  function wireInspect(form) {
    const result = form.querySelector("[data-result]");
    const missingLine = form.querySelector("[data-missing]");
    const lot = form.querySelector("[name=lot]");
    function missing() {
      const out = [];
      form.querySelectorAll("fieldset[data-position]").forEach(function (fs) {
        if (!fs.querySelector("input[type=radio]:checked")) out.push(fs.dataset.position);
      });
      form.querySelectorAll("input[data-check]").forEach(function (c) {
        if (!c.checked) out.push(c.dataset.check);
      });
      return out;
    }
    function filterLots(kind) {
      if (!lot) return;
      Array.from(lot.options).forEach(function (o) {
        if (!o.value) return;
        const show = !kind || o.dataset.kind === kind;
        o.hidden = !show; o.disabled = !show;
        if (!show && o.selected) lot.value = "";
      });
    }
    function update() {
      const picked = Array.from(form.querySelectorAll("input[type=radio]:checked")).map(function (r) { return r.value; });
      const loaded = picked.filter(function (v) { return v !== "empty"; });
      const mag = form.querySelector("[name=magazine_rounds]");
      const n = loaded.length + (mag && loaded.length ? parseInt(mag.value || "0", 10) : 0);
      const kinds = Array.from(new Set(loaded));
      filterLots(kinds.length === 1 ? kinds[0] : "");
      const chosen = lot && lot.value ? lot.options[lot.selectedIndex] : null;
      const lotKind = chosen ? chosen.dataset.kind : "";
      const gaps = missing();
      if (missingLine) {
        missingLine.textContent = gaps.length ? "✖ Not checked yet: " + gaps.join(", ") + ". The inspection cannot be recorded until every one is." : "✔ Every position, the barrel" + (form.querySelector("input[data-check=magazine]") ? " and the magazine" : "") + " recorded.";
        missingLine.className = gaps.length ? "missing alert-text" : "missing ok-text";
      }
      if (!result) return;
      if (!picked.length) { result.textContent = "record each position first"; return; }
      if (kinds.length > 1) { result.textContent = "mixed dummies and blanks: not allowed"; return; }
      // Until every position is checked the load is only what is known so far: never "cold".
      const so = gaps.length ? "so far " : "";
      if (!n) { result.textContent = lotKind === "blank" ? "empty, but a blank lot is chosen: HOT lot, choose none" : (gaps.length ? "so far empty — not known to be cold until everything is checked" : "empty (cold)"); return; }
      const kind = kinds[0];
      const hot = kind === "blank" || lotKind === "blank";
      result.textContent = so + n + " " + kind + (n === 1 ? "" : (kind === "dummy" ? " rounds" : "s")) +
        (chosen ? " from " + lot.value : " (choose the lot)") + (hot ? " — HOT" : " — cold");
    }
    form.querySelectorAll("[data-all]").forEach(function (b) {
      b.addEventListener("click", function () {
        form.querySelectorAll("input[type=radio][value=" + b.dataset.all + "]").forEach(function (r) { r.checked = true; });
        update();
      });
    });
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    // The browser's own check stops the submit; say in words what is missing.
    form.addEventListener("invalid", function () { update(); }, true);
    update();
  }

  // ---- return: what came back must add up to what went out ----
  function wireReturn(form) {
    const out = parseInt(form.dataset.load || "0", 10);
    const line = form.querySelector("[data-return-sum]");
    if (!out || !line) return;
    function val(name) { const el = form.querySelector("[name=" + name + "]"); return el && el.value !== "" ? parseInt(el.value, 10) : (el ? NaN : 0); }
    function update() {
      const back = val("back"), fired = val("fired"), lost = val("lost");
      const sum = back + fired + lost;
      const ok = sum === out;
      if (isNaN(sum)) { line.textContent = out + " went out: enter what came back."; return; }
      line.textContent = (ok ? "✔ " : "✖ ") + back + " back + " + fired + " fired + " + lost + " lost = " + sum + " of the " + out + " that went out" + (ok ? "." : ": count again.");
      form.querySelectorAll("input[type=number]").forEach(function (el) { el.setCustomValidity(ok ? "" : "The counts must add up to " + out); });
    }
    form.addEventListener("input", update);
    update();
  }

  // ---- wrap: show each lot's difference as it is typed ----
  function wireWrap(root) {
    root.querySelectorAll(".count-input").forEach(function (input) {
      input.addEventListener("input", function () {
        const cell = input.closest("tr").querySelector("[data-balance]");
        const record = input.closest("tr").querySelector("[data-record]");
        if (!cell || input.value === "") return;
        // Blind: the recorded figure appears once a count is typed.
        if (record) record.textContent = input.dataset.expected;
        const diff = parseInt(input.value, 10) - parseInt(input.dataset.expected, 10);
        const row = input.closest("tr");
        if (diff === 0) { cell.textContent = "✔ matches"; row.classList.remove("unbalanced"); }
        else { cell.textContent = "✖ counted " + Math.abs(diff) + (diff > 0 ? " more" : " fewer") + " than the record"; row.classList.add("unbalanced"); }
      });
    });
  }

  function wire(root) {
    root.querySelectorAll("form[data-inspect]").forEach(wireInspect);
    root.querySelectorAll("form[data-return]").forEach(wireReturn);
    wireWrap(root);
  }

  // ---- the live board: the API's event stream wakes a refresh of the board ----
  function wireLive() {
    const live = document.getElementById("live");
    if (!live || !window.EventSource) return;
    const text = live.querySelector(".live-text");
    const dot = live.querySelector(".dot");
    let timer = null;
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        const board = document.getElementById("board");
        if (board && window.htmx) window.htmx.trigger(board, "refresh");
      }, 150);
    }
    const es = new EventSource(live.dataset.stream);
    es.onopen = function () { live.className = "live on"; dot.textContent = "●"; text.textContent = "Live: updates without reloading"; };
    es.onerror = function () { live.className = "live off"; dot.textContent = "○"; text.textContent = "Reconnecting… (the board also refreshes every 30 s)"; probe(); };
    live.dataset.types.split(" ").forEach(function (t) { es.addEventListener(t, refresh); });
    es.addEventListener("error", function (e) {
      if (e.data) { es.close(); live.className = "live off"; text.textContent = "Live updates stopped: sign in again."; }
    });
  }

  // ---- the menu behind a button on narrow screens ----
  // Without this script the button stays hidden and the menu stays open.
  function wireMenu() {
    const btn = document.querySelector(".menu-toggle");
    const top = btn && btn.closest(".top");
    if (!btn || !top) return;
    btn.hidden = false;
    top.classList.add("js-menu");
    btn.addEventListener("click", function () {
      const open = btn.getAttribute("aria-expanded") !== "true";
      btn.setAttribute("aria-expanded", open ? "true" : "false");
      top.classList.toggle("menu-open", open);
      if (open) { const first = document.querySelector("#sections a"); if (first) first.focus(); }
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && top.classList.contains("menu-open")) {
        btn.setAttribute("aria-expanded", "false"); top.classList.remove("menu-open"); btn.focus();
      }
    });
  }

  // ---- the board's alarms: a newly overdue or frozen weapon flashes and beeps once ----
  // What was already showing is kept per production (localStorage), so a reload
  // or the 30 s refresh does not sound again for the same weapon; a weapon that
  // clears and comes back sounds again. The sound is a WebAudio beep (no audio
  // file); the mute button is remembered in localStorage. Browsers only let a
  // page play sound after a tap on it: the first tap anywhere unlocks it.
  const MUTE_KEY = "coldcheck.board.muted";
  const FLASH_MS = 120000;
  const flashing = {};  // alarm key -> when it stops flashing (this tab)
  let audio = null;
  let earlierOpen = false;
  function store(kind) { try { return window[kind]; } catch (e) { return null; } }
  function muted() { const ls = store("localStorage"); return !!ls && ls.getItem(MUTE_KEY) === "1"; }
  function audioContext() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) { try { audio = new Ctx(); } catch (e) { return null; } }
    return audio;
  }
  // Until then the board says so under the mute button.
  function soundHint() {
    const hint = document.querySelector(".sound-hint");
    const ua = navigator.userActivation;
    if (hint) hint.hidden = muted() || !ua || ua.hasBeenActive;
  }
  function unlockAudio() {
    if (!document.getElementById("board")) return;
    const hint = document.querySelector(".sound-hint");
    if (hint) hint.hidden = true;
    const ctx = audioContext();
    if (ctx && ctx.state === "suspended") ctx.resume();
  }
  function beep() {
    const btn = document.getElementById("alarm-sound");
    if (btn) btn.dataset.alarms = String(parseInt(btn.dataset.alarms || "0", 10) + 1);
    // Before any tap the browser would refuse to start the sound: do not ask.
    const ua = navigator.userActivation;
    if (!audio && ua && !ua.hasBeenActive) return;
    const ctx = audioContext();
    if (!ctx) return;
    if (ctx.state === "suspended") ctx.resume();
    // Three short high tones: loud enough on a noisy set, over in half a second.
    [0, 0.18, 0.36].forEach(function (at) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = 1760;
      const t = ctx.currentTime + at;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.4, t + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.14);
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(t); osc.stop(t + 0.15);
    });
  }
  function showMute(btn) {
    const on = muted();
    btn.setAttribute("aria-pressed", on ? "true" : "false");
    const icon = btn.querySelector(".sound-icon");
    if (icon) icon.textContent = on ? "⊘" : "♪";
  }
  function wireMute() {
    const btn = document.getElementById("alarm-sound");
    if (!btn) return;
    btn.hidden = false;
    showMute(btn);
    btn.addEventListener("click", function () {
      const ls = store("localStorage");
      if (ls) { if (muted()) ls.removeItem(MUTE_KEY); else ls.setItem(MUTE_KEY, "1"); }
      showMute(btn);
      soundHint();
    });
    soundHint();
  }
  function wireAlarms() {
    const board = document.getElementById("board");
    const btn = document.getElementById("alarm-sound");
    if (!board) return;
    const key = "coldcheck.board.seen." + (btn ? btn.dataset.production : location.pathname);
    const ls = store("localStorage");
    let seen = [];
    try { seen = JSON.parse((ls && ls.getItem(key)) || "[]"); } catch (e) { seen = []; }
    const now = Date.now();
    const flags = Array.from(board.querySelectorAll("[data-alarm]"));
    const current = flags.map(function (f) { return f.dataset.alarm; });
    const fresh = current.filter(function (k) { return seen.indexOf(k) < 0; });
    fresh.forEach(function (k) { flashing[k] = now + FLASH_MS; });
    flags.forEach(function (f) {
      if ((flashing[f.dataset.alarm] || 0) > now) {
        f.classList.add("flash");
        f.closest(".weapon").classList.add("flash");
        const tile = board.querySelector(".tile[data-count=" + f.dataset.alarm.split(":")[1] + "]");
        if (tile) tile.classList.add("flash");
      }
    });
    if (ls) ls.setItem(key, JSON.stringify(current));
    if (fresh.length && !muted()) beep();
    const earlier = board.querySelector("details.earlier");
    if (earlier) {
      if (earlierOpen) earlier.open = true;
      earlier.addEventListener("toggle", function () { earlierOpen = earlier.open; });
    }
  }
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("keydown", unlockAudio, true);

  // ---- scanning QR codes: BarcodeDetector where the browser has it, else jsQR ----
  const scanner = { stream: null, onCode: null, running: false };
  function loadJsQR() {
    if (typeof window.jsQR === "function") return Promise.resolve(window.jsQR);
    return new Promise(function (resolve, reject) {
      const s = document.createElement("script");
      s.src = "/static/vendor/jsQR.js";
      s.onload = function () {
        const lib = window.jsQR;
        resolve(typeof lib === "function" ? lib : lib && lib.default);
      };
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }
  function decodeCanvas(canvas) {
    if ("BarcodeDetector" in window) {
      const det = new window.BarcodeDetector({ formats: ["qr_code"] });
      return det.detect(canvas).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    }
    return loadJsQR().then(function (jsQR) {
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const code = jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
      return code ? code.data : null;
    });
  }
  function status(msg) { const s = document.getElementById("scanner-status"); if (s) s.textContent = msg; }
  function closeScanner() {
    scanner.running = false;
    if (scanner.stream) scanner.stream.getTracks().forEach(function (t) { t.stop(); });
    scanner.stream = null;
    const dlg = document.getElementById("scanner");
    if (dlg) dlg.hidden = true;
  }
  function found(text) {
    const cb = scanner.onCode;
    closeScanner();
    if (cb && text) cb(text);
  }
  function openScanner(onCode) {
    const dlg = document.getElementById("scanner");
    const video = document.getElementById("scanner-video");
    scanner.onCode = onCode;
    dlg.hidden = false;
    document.getElementById("scanner-cancel").focus();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status("No camera here (the camera needs https). Take a photo of the code instead, or type it.");
      return;
    }
    status("Starting the camera…");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (stream) {
      scanner.stream = stream; scanner.running = true;
      video.srcObject = stream; video.play();
      status("Point the camera at the label or badge.");
      const canvas = document.createElement("canvas");
      function tick() {
        if (!scanner.running) return;
        if (video.videoWidth) {
          canvas.width = video.videoWidth; canvas.height = video.videoHeight;
          canvas.getContext("2d", { willReadFrequently: true }).drawImage(video, 0, 0);
          decodeCanvas(canvas).then(function (t) { if (t) found(t); else setTimeout(tick, 200); }, function () { setTimeout(tick, 400); });
        } else { setTimeout(tick, 200); }
      }
      tick();
    }, function () { status("The camera is not available. Take a photo of the code instead, or type it."); });
  }
  function decodeFile(file) {
    status("Reading the photo…");
    const img = new Image();
    img.onload = function () {
      const canvas = document.createElement("canvas");
      const scale = Math.min(1, 1600 / Math.max(img.width, img.height));
      canvas.width = Math.round(img.width * scale); canvas.height = Math.round(img.height * scale);
      canvas.getContext("2d", { willReadFrequently: true }).drawImage(img, 0, 0, canvas.width, canvas.height);
      decodeCanvas(canvas).then(function (t) {
        URL.revokeObjectURL(img.src);
        if (t) found(t); else status("No QR code found in the photo. Try again closer, or type it.");
      });
    };
    img.src = URL.createObjectURL(file);
  }
  function resolve(code) {
    const prod = location.pathname.split("/")[2];
    return fetch("/p/" + prod + "/resolve?code=" + encodeURIComponent(code), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  document.addEventListener("click", function (e) {
    const into = e.target.closest("[data-scan-into]");
    if (into) {
      openScanner(function (text) {
        const input = document.getElementById(into.dataset.scanInto);
        input.value = text;
        input.form.requestSubmit();
      });
      return;
    }
    const forSel = e.target.closest("[data-scan-for]");
    if (forSel) {
      const select = document.getElementById(forSel.dataset.scanFor);
      openScanner(function (text) {
        resolve(text).then(function (hit) {
          const ok = hit && Array.from(select.options).some(function (o) { return o.value === hit.id; });
          if (ok) { select.value = hit.id; select.focus(); }
          else { alert("That code (" + text + ") is not one of the people listed here."); }
        });
      });
    }
  });
  // ---- when the tablet loses the cart (issue 17 part 3) ----
  // The page says so at once: the browser's offline event, a failed request, or
  // the cart's health check (every 5 s) failing. The board stays, marked STALE
  // with the time it was last current. A form sent while the cart cannot be
  // reached is kept, with its values and its idempotency key, and sent again as
  // soon as the cart answers; the cart decides (recorded, or refused with its
  // rule code) and the answer is shown as if it had come the first time. The
  // key makes the resend safe: a form that did reach the cart is recorded once.
  // Nothing is decided on the tablet, and nothing is written to its storage (a
  // queued form may hold a PIN): closing the page drops what is waiting, and the
  // banner says so.
  const net = { down: false, since: null, boardAt: null, queue: [], probing: null };
  const HEALTH = "/api/v1/health";
  function hhmmss(d) { return d.toTimeString().slice(0, 8); }
  function netBanner() {
    let b = document.getElementById("net-banner");
    if (!b) {
      b = document.createElement("div");
      b.id = "net-banner";
      b.className = "net-banner";
      b.setAttribute("role", "alert");
      document.body.appendChild(b);
    }
    return b;
  }
  function showNet() {
    const b = netBanner();
    if (!net.down) { b.hidden = true; return; }
    const waiting = net.queue.length;
    b.hidden = false;
    b.innerHTML = "";
    const strong = document.createElement("b");
    strong.textContent = "✖ No connection to the cart since " + hhmmss(net.since) + ".";
    b.appendChild(strong);
    b.appendChild(document.createTextNode(" " + (waiting
      ? waiting + (waiting === 1 ? " action is" : " actions are") +
        " waiting and will be sent when the connection is back: keep this page open."
      : "What you see may be out of date; nothing you do is lost: it is sent when the cart answers.")));
  }
  function markStale() {
    const board = document.getElementById("board");
    if (!board || board.classList.contains("stale")) return;
    board.classList.add("stale");
    const note = document.createElement("p");
    note.className = "stale-note";
    note.setAttribute("data-stale", "");
    note.textContent = "STALE: the board as of " + hhmmss(net.boardAt || net.since) +
      ". It updates again when the cart answers.";
    board.insertBefore(note, board.firstChild);
  }
  function markDown() {
    if (!net.down) { net.down = true; net.since = new Date(); }
    const live = document.getElementById("live");
    if (live) {
      live.className = "live off";
      live.querySelector(".dot").textContent = "○";
      live.querySelector(".live-text").textContent = "Offline: no connection to the cart";
    }
    showNet();
    markStale();
    if (!net.probing) net.probing = setInterval(probe, 2000);
  }
  function markUp() {
    if (!net.down) return;
    net.down = false;
    clearInterval(net.probing);
    net.probing = null;
    showNet();
    flush().then(function () {
      const board = document.getElementById("board");
      if (board && window.htmx) window.htmx.trigger(board, "refresh");
    });
  }
  function probe() {
    return fetch(HEALTH, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (r.ok) markUp(); else markDown(); })
      .catch(function () { markDown(); });
  }
  function pendingNote(form, text) {
    let n = form.querySelector(".pending");
    if (!n) {
      n = document.createElement("p");
      n.className = "pending";
      n.setAttribute("role", "status");
      form.insertBefore(n, form.firstChild);
    }
    n.textContent = text;
  }
  function queueForm(form, url) {
    if (net.queue.some(function (q) { return q.form === form; })) return;
    const target = (form.getAttribute("hx-target") || "").replace(/^#/, "");
    net.queue.push({ form: form, url: url, target: target,
                     body: new URLSearchParams(new FormData(form)).toString() });
    pendingNote(form, "◷ Not sent yet: the cart cannot be reached. It is sent as soon as " +
                      "the connection is back, and the cart's answer shows here.");
  }
  function answer(q, r) {
    const to = r.headers.get("HX-Redirect");
    if (to) { window.location.assign(to); return Promise.resolve(); }
    return r.text().then(function (html) {
      const old = q.target && document.getElementById(q.target);
      if (!old) { window.location.reload(); return; }
      const box = document.createElement("div");
      box.innerHTML = html;
      const fresh = box.firstElementChild;
      if (!fresh) return;
      old.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      wire(fresh.parentNode || document);
      if (!showProblem(fresh.parentNode || document)) focusFirst(fresh.parentNode || document);
    });
  }
  function flush() {
    const next = net.queue[0];
    if (!next) return Promise.resolve();
    pendingNote(next.form, "Sending now…");
    return fetch(next.url, {
      method: "POST", body: next.body, credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRF-Token": cookie("coldcheck_csrf"),
                 "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) {
      net.queue.shift();
      return answer(next, r).then(flush);
    }).catch(function () {
      pendingNote(next.form, "◷ Not sent yet: the cart cannot be reached. It is sent as soon " +
                             "as the connection is back.");
      markDown();
    });
  }
  document.addEventListener("htmx:sendError", function (e) {
    const elt = e.detail.elt;
    const form = elt && (elt.tagName === "FORM" ? elt : elt.closest && elt.closest("form"));
    const cfg = e.detail.requestConfig || {};
    if (form && (cfg.verb || "").toLowerCase() === "post") queueForm(form, cfg.path);
    markDown();
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "board") net.boardAt = new Date();
  });
  window.addEventListener("offline", markDown);
  window.addEventListener("online", probe);
  window.addEventListener("beforeunload", function (e) {
    if (net.queue.length) { e.preventDefault(); e.returnValue = ""; }
  });

  document.addEventListener("DOMContentLoaded", function () {
    net.boardAt = new Date();
    setInterval(function () { if (!net.down) probe(); }, 5000);
    if (navigator.onLine === false) markDown();
    const cancel = document.getElementById("scanner-cancel");
    if (cancel) cancel.addEventListener("click", closeScanner);
    const photo = document.getElementById("scanner-photo");
    if (photo) photo.addEventListener("change", function () { if (photo.files.length) decodeFile(photo.files[0]); photo.value = ""; });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeScanner(); });
    wire(document);
    wireMenu();
    wireMute();
    wireAlarms();
    wireLive();
    focusFirst(document);
  });
})();

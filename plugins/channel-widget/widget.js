/* Tezgah web widget. One tag on a page:
 *   <script src="https://HOST/widget.js" data-tenant="ID" async></script>
 * draws a launcher and a chat panel inside an open shadow root and talks to
 * wss://HOST/v1/tenants/ID/channels/widget/ws (frames: docs/channels.md). No framework. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[data-tenant][src*="widget.js"]');
  if (!script || window.__tezgahWidget) return;
  var tenant = script.getAttribute("data-tenant");
  if (!tenant) return;
  var base = new URL(script.src, location.href);
  var socketUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host +
    "/v1/tenants/" + encodeURIComponent(tenant) + "/channels/widget/ws";
  var tr = /^tr\b/i.test(document.documentElement.lang || navigator.language || "");
  var L = tr ? {
    open: "Sohbeti aç", close: "Sohbeti kapat", title: "Bize yazın", input: "Mesajınız",
    placeholder: "Bir mesaj yazın…", send: "Gönder", typing: "Yazıyor…",
    connecting: "Bağlanıyor…", reconnecting: "Bağlantı koptu, yeniden bağlanıyor…",
    online: "Çevrimiçi", greeting: "Merhaba! Size nasıl yardımcı olabilirim?",
    options: "Seçenekler", you: "Siz", bot: "Asistan", staff: "Yetkili", limited: "Çok fazla mesaj; biraz bekleyin.",
    failed: "Mesaj gönderilemedi."
  } : {
    open: "Open chat", close: "Close chat", title: "Chat with us", input: "Your message",
    placeholder: "Type a message…", send: "Send", typing: "Typing…",
    connecting: "Connecting…", reconnecting: "Connection lost, reconnecting…",
    online: "Online", greeting: "Hello! How can I help you?",
    options: "Options", you: "You", bot: "Assistant", staff: "Staff", limited: "Too many messages; please wait a moment.",
    failed: "The message could not be sent."
  };
  var storeKey = "tezgah:" + tenant + ":visitor";
  function load() { try { return localStorage.getItem(storeKey); } catch (e) { return null; } }
  function save(v) { try { localStorage.setItem(storeKey, v); } catch (e) { /* private mode */ } }

  var css =
    ":host{all:initial;--c:#0f766e;--bg:#fff;--fg:#111827;--muted:#6b7280;--bub:#f3f4f6;--line:#e5e7eb;" +
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg)}" +
    "@media (prefers-color-scheme:dark){:host{--bg:#111827;--fg:#f3f4f6;--muted:#9ca3af;--bub:#1f2937;--line:#374151}}" +
    "*{box-sizing:border-box;font:inherit}" +
    "[data-tezgah=launcher]{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:var(--c);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646;display:grid;place-items:center}" +
    "[data-tezgah=launcher] svg{width:26px;height:26px;fill:currentColor}" +
    "[data-tezgah=panel]{position:fixed;right:20px;bottom:88px;width:min(370px,calc(100vw - 40px));height:min(540px,calc(100vh - 110px));" +
    "background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:14px;box-shadow:0 10px 30px rgba(0,0,0,.25);" +
    "display:flex;flex-direction:column;overflow:hidden;z-index:2147483647}" +
    "[data-tezgah=panel][hidden]{display:none}" +
    "header{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}" +
    "header h2{margin:0;font-size:15px;font-weight:600;flex:1}" +
    "header button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer;line-height:1;padding:2px 6px;border-radius:6px}" +
    "[data-tezgah=status]{font-size:12px;color:var(--muted);padding:4px 14px;min-height:22px;border-bottom:1px solid var(--line)}" +
    "[role=log]{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}" +
    "[data-tezgah=message]{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}" +
    "[data-from=customer]{align-self:flex-end;background:var(--c);color:#fff;border-bottom-right-radius:4px}" +
    "[data-from=bot],[data-from=operator]{align-self:flex-start;background:var(--bub);border-bottom-left-radius:4px}" +
    ".opts{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}" +
    "[data-tezgah=option]{border:1px solid var(--c);color:var(--fg);background:transparent;border-radius:16px;padding:5px 11px;cursor:pointer}" +
    "[data-tezgah=option]:hover{background:var(--c);color:#fff}" +
    ".cards{display:flex;gap:8px;overflow-x:auto;align-self:stretch;padding-bottom:4px}" +
    ".card{flex:0 0 150px;border:1px solid var(--line);border-radius:10px;padding:8px;background:var(--bub)}" +
    ".card img{width:100%;height:90px;object-fit:cover;border-radius:6px;display:block;margin-bottom:6px}" +
    ".card b{display:block}.card small{color:var(--muted);display:block}" +
    "[data-tezgah=typing]{align-self:flex-start;color:var(--muted);font-style:italic;font-size:13px}" +
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid var(--line)}" +
    "[data-tezgah=input]{flex:1;border:1px solid var(--line);border-radius:10px;padding:8px 10px;background:var(--bg);color:var(--fg)}" +
    "[data-tezgah=send]{border:0;border-radius:10px;padding:8px 14px;background:var(--c);color:#fff;cursor:pointer}" +
    "[data-tezgah=send]:disabled{opacity:.5;cursor:default}" +
    ":focus-visible{outline:3px solid #f59e0b;outline-offset:2px}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    for (var k in attrs) n.setAttribute(k, attrs[k]);
    if (text != null) n.textContent = text;
    return n;
  }

  var host = el("div", { id: "tezgah-widget" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style", {}, css);
  var launcher = el("button", { type: "button", "data-tezgah": "launcher", "aria-label": L.open,
    "aria-expanded": "false", "aria-controls": "tz-panel" });
  launcher.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  var panel = el("div", { id: "tz-panel", "data-tezgah": "panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "tz-title", hidden: "" });
  var header = el("header");
  var title = el("h2", { id: "tz-title" }, L.title);
  var closer = el("button", { type: "button", "aria-label": L.close }, "×");
  header.append(title, closer);
  var status = el("div", { "data-tezgah": "status", role: "status", "aria-live": "polite" }, L.connecting);
  var log = el("div", { role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": L.title, tabindex: "0" });
  var form = el("form");
  var label = el("label", { for: "tz-input", class: "sr" }, L.input);
  var input = el("input", { id: "tz-input", "data-tezgah": "input", type: "text", autocomplete: "off",
    placeholder: L.placeholder, maxlength: "4000" });
  var send = el("button", { type: "submit", "data-tezgah": "send" }, L.send);
  form.append(label, input, send);
  panel.append(header, status, log, form);
  root.append(style, launcher, panel);

  var ws = null, token = load(), attempt = 0, greeted = false, streaming = null, typing = null;
  var pending = [];  // messages sent and not answered: sent again after a reconnect

  function setColor(c) { if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(c || "")) host.style.setProperty("--c", c); }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function bubble(from, text) {
    var b = el("div", { "data-tezgah": "message", "data-from": from });
    b.append(el("span", { class: "sr" }, (from === "customer" ? L.you : from === "operator" ? L.staff : L.bot) + ": "));
    var t = el("span", {}, text);
    b.append(t);
    b.body = t;
    log.append(b);
    scroll();
    return b;
  }
  function showTyping(on) {
    if (on && !typing) { typing = el("div", { "data-tezgah": "typing" }, L.typing); log.append(typing); scroll(); }
    if (!on && typing) { typing.remove(); typing = null; }
  }
  function clearOptions() {
    var old = log.querySelectorAll(".opts");
    for (var i = 0; i < old.length; i++) old[i].remove();
  }
  function showCards(cards) {
    if (!cards || !cards.length) return;
    var box = el("div", { class: "cards", role: "list" });
    cards.forEach(function (c) {
      var card = el("div", { class: "card", role: "listitem", "data-id": c.id || "" });
      if (/^https:\/\//.test(c.image_url || "")) card.append(el("img", { src: c.image_url, alt: "" }));
      card.append(el("b", {}, c.title));
      if (c.subtitle) card.append(el("small", {}, c.subtitle));
      if (typeof c.price === "number") {
        var price;
        try { price = new Intl.NumberFormat(tr ? "tr-TR" : "en", { style: "currency", currency: c.currency || "TRY" }).format(c.price); }
        catch (e) { price = c.price + " " + (c.currency || ""); }
        card.append(el("small", {}, price));
      }
      box.append(card);
    });
    log.append(box);
    scroll();
  }
  function showOptions(options) {
    clearOptions();
    if (!options || !options.length) return;
    var box = el("div", { class: "opts", role: "group", "aria-label": L.options });
    options.forEach(function (o) {
      var b = el("button", { type: "button", "data-tezgah": "option", "data-id": o.id || "" }, o.title);
      if (o.description) b.title = o.description;
      b.addEventListener("click", function () { submit(o.title); });
      box.append(b);
    });
    log.append(box);
    scroll();
  }

  function frame(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }
  function newId() {
    var a = new Uint8Array(8);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "m" + Array.prototype.map.call(a, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function submit(text) {
    text = String(text || "").trim();
    if (!text) return;
    clearOptions();
    bubble("customer", text);
    var m = { type: "message", text: text, id: newId() };
    pending.push(m);
    if (greeted) frame(m);
  }

  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        greeted = true;
        attempt = 0;
        token = f.visitor_token;
        save(token);
        if (f.title) title.textContent = f.title;
        setColor(f.color);
        status.textContent = L.online;
        if (!log.querySelector("[data-tezgah=message]")) {
          (f.history || []).forEach(function (h) { bubble(h.from === "customer" || h.from === "operator" ? h.from : "bot", h.text); });
          if (!(f.history || []).length) bubble("bot", f.greeting || L.greeting);
        }
        pending.forEach(frame);
        break;
      case "typing":
        showTyping(true);
        break;
      case "delta":
        showTyping(false);
        if (!streaming) streaming = bubble("bot", "");
        streaming.body.textContent += f.text;
        scroll();
        break;
      case "reset":
        if (streaming) streaming.body.textContent = "";
        break;
      case "reply":
        showTyping(false);
        if (f.from === "operator") {  // a person's reply, pushed while the bot is silent
          bubble("operator", f.reply);
          scroll();
          break;
        }
        pending = pending.filter(function (m) { return m.id !== f.id; });
        if (!streaming && !f.reply) break;  // a person has taken over: the bot says nothing
        if (!streaming) streaming = bubble("bot", "");
        streaming.body.textContent = f.reply;  // the stored text is the last word
        streaming = null;
        showCards(f.cards);
        showOptions(f.options);
        break;
      case "error":
        showTyping(false);
        if (f.code === "duplicate_in_flight") {  // still being answered: ask again shortly
          setTimeout(function () { pending.forEach(function (m) { if (m.id === f.id) frame(m); }); }, 1500);
          break;
        }
        if (f.id) pending = pending.filter(function (m) { return m.id !== f.id; });
        status.textContent = f.code === "rate_limited" ? L.limited : L.failed + " (" + f.message + ")";
        break;
    }
  }

  function connect() {
    greeted = false;
    status.textContent = attempt ? L.reconnecting : L.connecting;
    try { ws = new WebSocket(socketUrl); } catch (e) { return retry(); }
    ws.onopen = function () { frame(token ? { type: "hello", visitor_token: token } : { type: "hello" }); };
    ws.onmessage = function (e) { try { onFrame(JSON.parse(e.data)); } catch (x) { /* ignore a bad frame */ } };
    ws.onclose = function () {
      ws = null;
      showTyping(false);
      if (streaming) { streaming.remove(); streaming = null; }  // the reply comes again with the pending message
      retry();
    };
  }
  function retry() {
    attempt++;
    status.textContent = L.reconnecting;
    var delay = Math.min(15000, 500 * Math.pow(2, attempt - 1)) * (0.75 + Math.random() / 2);
    setTimeout(connect, delay);
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? L.close : L.open);
    try { sessionStorage.setItem(storeKey + ":open", open ? "1" : ""); } catch (e) { /* ignore */ }
    if (open) { input.focus(); scroll(); } else launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closer.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit(input.value);
    input.value = "";
    input.focus();
  });

  window.__tezgahWidget = { root: root };
  function mount() {
    document.body.append(host);
    try { if (sessionStorage.getItem(storeKey + ":open")) setOpen(true); } catch (e) { /* ignore */ }
    connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();

/* The reference SSI's Service Portal (REFSSI_PORTAL_UI=sp): a page shell whose widgets are fetched as JSON
   (GET /api/now/sp/page) and rendered here; links between portal pages are History-API route changes.
   Every XHR carries the session token g_ck as X-UserToken. Widgets: sp_widgets.js; the select2 imitation:
   sp_select2.js. */
(function () {
  "use strict";
  const body = document.body;
  const portal = body.dataset.portal;
  const root = document.getElementById("sp-page");
  const loading = document.getElementById("sp-loading");
  const toasts = document.getElementById("sp-toasts");
  const SP = (window.SP = window.SP || {});
  let current = null; // the URL whose widgets are shown

  /* ---- DOM building: text only, never HTML from data ---- */
  SP.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false)
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  const el = SP.el;

  /* ---- XHR with the session token ---- */
  SP.api = async function (method, url, data, contentType) {
    const headers = { Accept: "application/json", "X-UserToken": window.g_ck };
    let payload;
    if (data instanceof URLSearchParams) { payload = data; headers["Content-Type"] = "application/x-www-form-urlencoded"; }
    else if (data instanceof Blob) { payload = data; headers["Content-Type"] = contentType || data.type || "application/octet-stream"; }
    else if (data !== undefined) { payload = JSON.stringify(data); headers["Content-Type"] = "application/json"; }
    const r = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    let json = {};
    try { json = await r.json(); } catch (e) { json = {}; }
    if (r.status === 401) { window.location.assign(portal + "?id=login"); throw new Error("signed out"); }
    return { status: r.status, json };
  };

  /* ---- transient notifications (spUtil.addInfoMessage) ---- */
  SP.toast = function (kind, text) {
    const t = el("div", { class: `alert alert-${kind} sp-toast`, role: kind === "danger" || kind === "warning" ? "alert" : "status", text });
    toasts.append(t);
    setTimeout(() => t.remove(), 5000);
  };

  /* ---- confirmations and inputs (spModal). onSubmit(values) resolves to "" when done (the dialog closes)
     or to an error message (shown in the dialog, which stays open); cancelling closes it. ---- */
  SP.modal = function ({ title, intro, fields, submit, cancel }, onSubmit) {
    const opener = document.activeElement;
    const form = el("form", { novalidate: true, class: "sp-modal-form" });
    const error = el("div", { class: "sp-modal-error" });
    const id = "sp-modal-title";
    const dialog = el("div", { class: "sp-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": id },
      el("h2", { id, text: title }), intro ? el("p", { text: intro }) : null, error, form);
    const backdrop = el("div", { class: "sp-modal-backdrop" }, dialog);
    const close = () => { backdrop.remove(); if (opener && opener.focus && opener.isConnected) opener.focus(); };
    for (const f of fields || []) {
      const fid = `sp-modal-${f.name}`;
      form.append(el("div", { class: "sp-modal-field" }, el("label", { for: fid, text: f.label }),
        f.kind === "textarea" ? el("textarea", { id: fid, name: f.name, rows: 4 }) : el("input", { id: fid, name: f.name, type: "text", autocomplete: "off" }),
        f.hint ? el("p", { class: "hint", text: f.hint }) : null));
    }
    const ok = el("button", { type: "submit", class: "btn-primary", text: submit });
    form.append(el("div", { class: "actions" }, ok,
      el("button", { type: "button", class: "btn-secondary", text: cancel || "Cancel", onclick: close })));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const values = {};
      for (const f of fields || []) values[f.name] = form.elements[f.name].value;
      ok.disabled = true;
      try {
        const problem = await onSubmit(values);
        if (!problem) close();
        else error.replaceChildren(el("div", { class: "alert alert-danger", role: "alert", text: problem }));
      } finally { ok.disabled = false; }
    });
    dialog.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
    body.append(backdrop);
    (form.querySelector("input, textarea, button") || dialog).focus();
  };

  /* ---- routing ---- */
  SP.sameUrl = function (url) { return new URL(url, location.href).href === location.href; };

  let latest = 0; // only the last route's widgets are drawn, however the replies arrive
  SP.load = async function (url) {
    const target = new URL(url, location.href);
    const mine = ++latest;
    loading.hidden = false;
    root.setAttribute("aria-busy", "true");
    let reply;
    try { reply = await SP.api("GET", "/api/now/sp/page" + target.search); }
    catch (e) { return; }
    if (mine !== latest) return;
    const result = reply.json.result;
    if (!result) { SP.toast("danger", (reply.json.error || {}).message || "The page could not be loaded."); loading.hidden = true; return; }
    if (result.document) { window.location.replace(target.href); return; }
    current = target.href;
    document.title = `${result.title} - ${body.dataset.title}`;
    root.replaceChildren(...(result.widgets || []).map((w) => SP.render(w)));
    root.dataset.page = result.id;
    root.setAttribute("aria-busy", "false");
    loading.hidden = true;
    for (const [kind, text] of result.messages || []) SP.toast(kind, text);
  };

  SP.route = function (url) {
    history.pushState({ sp: true }, "", url);
    return SP.load(url);
  };

  SP.refresh = function () { return SP.load(current || location.href); };

  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[href]");
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.hasAttribute("data-sp-document") || a.hasAttribute("download") || a.target) return;
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin || u.pathname !== portal) return;
    e.preventDefault();
    closeUserMenu();
    if (!SP.sameUrl(u.href)) SP.route(u.href);
  });
  window.addEventListener("popstate", () => SP.load(location.href));

  /* ---- the header's user menu ---- */
  const menuButton = document.getElementById("sp-user-menu");
  const menuList = document.getElementById("sp-user-menu-list");
  function closeUserMenu() { if (menuButton) { menuButton.setAttribute("aria-expanded", "false"); menuList.hidden = true; } }
  if (menuButton) {
    menuButton.addEventListener("click", () => {
      const open = menuButton.getAttribute("aria-expanded") !== "true";
      menuButton.setAttribute("aria-expanded", String(open));
      menuList.hidden = !open;
      if (open) menuList.querySelector("a").focus();
    });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !menuList.hidden) { closeUserMenu(); menuButton.focus(); } });
    document.addEventListener("click", (e) => { if (!e.target.closest(".sp-user-menu")) closeUserMenu(); });
  }

  /* ---- the widgets come after the shell: fetched once the document has loaded ---- */
  window.addEventListener("load", () => SP.load(location.href));
})();

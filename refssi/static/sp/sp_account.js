/* User administration's account widget (refssi/useradmin/sp.py): text fields, the User IDs and Job Type Roles
   as typeahead pickers (a combobox whose list filters as you type; choices made are chips with a remove
   button), saves and actions as XHR posts of the form's fields to the page's address, a modal to confirm a
   deactivation, and a one-time password shown once in the widget. */
(function () {
  "use strict";
  const SP = window.SP;
  const el = SP.el;

  function errorSummary(w, problem) {
    if (!problem) return null;
    const items = Object.entries(problem.errors || {}).map(([name, msg]) => el("li", {},
      el("a", { href: `#${["user_ids", "roles"].includes(name) ? name + "_input" : name}`, text: msg })));
    return el("div", { class: "alert alert-danger", role: "alert", id: "form_error_summary" },
      `${w.form_errors}.`, (problem.general || []).map((g) => el("p", { text: g })),
      items.length ? el("ul", {}, items) : null);
  }

  function textField(f, error) {
    const described = error ? `${f.name}_error` : null;
    return el("div", { class: "sp-form-field" },
      el("label", { for: f.name, text: f.label }),
      el("input", { id: f.name, name: f.name, type: f.type, value: f.value, autocomplete: "off", readonly: f.readonly,
        "aria-invalid": error ? "true" : null, "aria-describedby": described }),
      error ? el("p", { class: "field-error", id: described, text: error }) : null);
  }

  /* A typeahead picker over a list of {value, label}; state.selected holds the values chosen. */
  function picker(p, state, error) {
    const labelId = `${p.name}_label`, listId = `${p.name}_listbox`;
    const byValue = new Map(p.options.map((o) => [o.value, o.label]));
    const chips = el("ul", { class: "sp-chips", "aria-label": `${p.label}: chosen` });
    const input = el("input", { id: `${p.name}_input`, type: "text", role: "combobox", autocomplete: "off",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId, "aria-labelledby": labelId,
      placeholder: "Search", "aria-invalid": error ? "true" : null,
      "aria-describedby": error ? `${p.name}_error` : null });
    const list = el("ul", { id: listId, role: "listbox", "aria-labelledby": labelId, class: "sp-typeahead", hidden: true });
    let timer = null;

    function drawChips() {
      chips.replaceChildren(...state.selected.map((v) => el("li", { class: "sp-chip", "aria-label": byValue.get(v) || v },
        byValue.get(v) || v,
        el("button", { type: "button", class: "btn-link", "aria-label": `Remove ${byValue.get(v) || v}`, text: "×",
          onclick: () => { state.selected = state.selected.filter((x) => x !== v); drawChips(); } }))));
    }
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); }
    function choose(value) {
      if (!state.selected.includes(value)) state.selected.push(value);
      input.value = ""; close(); drawChips(); input.focus();
    }
    function open() {
      const q = input.value.trim().toLowerCase();
      const found = p.options.filter((o) => !state.selected.includes(o.value) &&
        (o.label.toLowerCase().includes(q) || o.value.toLowerCase().includes(q)));
      list.replaceChildren(...(found.length ? found.map((o, i) => el("li", { role: "option", id: `${p.name}_option_${i}`,
        "aria-selected": "false", "data-value": o.value, text: o.label,
        onmousedown: (e) => e.preventDefault(), onclick: () => choose(o.value) }))
        : [el("li", { class: "sp-typeahead-empty", text: "No matches found" })]));
      list.hidden = false; input.setAttribute("aria-expanded", "true");
    }
    // the list follows the typing after a pause, as a reference field's typeahead asks its server
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(open, 150); });
    // closed on focus and after a choice (as select2's closeOnSelect); ArrowDown or a click opens it
    input.addEventListener("click", open);
    input.addEventListener("blur", () => setTimeout(close, 100));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
      if (e.key === "ArrowDown" && list.hidden) { e.preventDefault(); open(); }
      if (e.key === "Enter") {
        e.preventDefault();
        const first = list.querySelector("[role=option]");
        if (!list.hidden && first) choose(first.dataset.value);
      }
    });
    drawChips();
    return el("div", { class: "sp-form-field sp-picker", role: "group", id: `${p.name}_group`, "aria-labelledby": labelId,
      "aria-invalid": error ? "true" : null, "aria-describedby": error ? `${p.name}_error` : null },
      el("span", { class: "sp-field-label", id: labelId, text: p.label }), chips, input, list,
      error ? el("p", { class: "field-error", id: `${p.name}_error`, text: error }) : null);
  }

  SP.account = function (w) {
    const section = el("section", { class: "panel sp-widget", "data-widget": "account" });
    const state = { values: Object.fromEntries(w.fields.map((f) => [f.name, f.value])),
      lists: Object.fromEntries(w.pickers.map((p) => [p.name, [...p.selected]])) };

    async function post(action, extra) {
      const body = new URLSearchParams({ action, ...(extra || {}) });
      if (action === w.submit.action) {
        for (const f of w.fields) if (!f.readonly && f.sent !== false) body.append(f.name, section.querySelector(`#${f.name}`).value);
        for (const p of w.pickers) for (const v of state.lists[p.name]) body.append(p.name, v);
      }
      const r = await SP.api("POST", w.post_url, body);
      const result = r.json.result;
      if (r.status === 200 && result && result.one_time_password) { showSecret(result); return ""; }
      if (r.status === 200 && result) { await SP.refresh(); SP.toast(result.kind === "info" ? "info" : "success", result.message); return ""; }
      if (r.status === 400 && (r.json.errors || r.json.general)) {
        for (const f of w.fields) if (!f.readonly) state.values[f.name] = section.querySelector(`#${f.name}`).value;
        draw(r.json);
        return "";
      }
      return (r.json.error || {}).message || "The change could not be saved.";
    }

    function showSecret(result) {
      const user = `${w.post_url.split("?")[0]}?id=user_admin_user&sys_id=${encodeURIComponent(result.sys_id)}`;
      section.replaceChildren(
        el("h1", { text: result.heading }),
        el("div", { class: "alert alert-success", role: "status", text: result.message }),
        SP.pairs([{ key: "secret_user_name", label: "User name", value: result.user_name }]),
        el("div", { class: "sp-field" }, el("span", { class: "sp-field-label", id: "otp_label", text: w.one_time_password_label }),
          el("code", { class: "secret", id: "one_time_password", "aria-labelledby": "otp_label", "data-secret": true,
            text: result.one_time_password })),
        el("p", { text: result.next_steps }),
        el("p", {}, el("a", { href: user, text: w.back_label.replace("{user_name}", result.user_name),
          // back to the account: the page may be this very address (a reset or reinstatement), drawn again
          onclick: (e) => { if (SP.sameUrl(user)) { e.preventDefault(); SP.refresh(); } } }), " · ",
          el("a", { href: w.list_url, text: w.list_label })));
    }

    function draw(problem) {
      const errors = (problem && problem.errors) || {};
      const fields = w.fields.map((f) => textField({ ...f, value: state.values[f.name] }, errors[f.name]));
      const pickers = w.pickers.map((p) => picker(p, { get selected() { return state.lists[p.name]; },
        set selected(v) { state.lists[p.name] = v; } }, errors[p.name]));
      const save = el("button", { type: "submit", class: "btn-primary", text: w.submit.label });
      const form = el("form", { novalidate: true, id: "account_form" }, fields, pickers, el("div", { class: "actions" }, save));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        save.disabled = true;
        try { const problem = await post(w.submit.action); if (problem) SP.toast("danger", problem); }
        finally { save.disabled = false; }
      });
      const parts = [el("p", {}, el("a", { href: w.list_url, text: `← ${w.list_label}` })),
        el("h1", { id: "user-heading", text: w.heading }), errorSummary(w, problem), form];
      if (w.account) {
        const buttons = w.account.actions.map((a) => el("button", { type: "button", class: "btn-primary", text: a.label,
          onclick: async () => {
            if (a.confirm) { SP.modal(a.confirm, () => post(a.action, { confirmed: "yes" })); return; }
            const problem = await post(a.action);
            if (problem) SP.toast("danger", problem);
          } }));
        const h = w.account.history;
        parts.push(el("section", { class: "sp-account", "aria-labelledby": "actions-heading" },
          el("h2", { id: "actions-heading", text: "Account" }),
          SP.pairs(w.account.facts.map((f, i) => ({ key: `account_fact_${i}`, label: f.label, value: f.value }))),
          el("div", { class: "actions" }, buttons)),
        el("section", { "aria-labelledby": "history-heading" }, el("h2", { id: "history-heading", text: "Account history" }),
          el("table", { class: "list", "aria-label": "Account history" },
            el("thead", {}, el("tr", {}, ["When (UTC)", "Action", "By", "Detail"].map((c) => el("th", { scope: "col", text: c })))),
            el("tbody", {}, h.length ? h.map((r) => el("tr", {}, [r.sys_created_on, r.action, r.actor, r.detail].map((c) => el("td", { text: c }))))
              : el("tr", {}, el("td", { colspan: 4, text: "No changes recorded." }))))));
      }
      section.replaceChildren(...parts.filter(Boolean));
    }

    draw(null);
    return section;
  };
})();

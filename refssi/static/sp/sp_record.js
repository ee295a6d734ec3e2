/* A record page drawn from blocks (refssi/oms/sp.py builds them from the same context as the classic templates):
   a menu, facts as label/value pairs, tables, progress, activity and forms. A form keeps its own model: text
   fields by their input events, choices only through select2 (sp_select2.js; the hidden select's native change
   is ignored). It posts by XHR, form-encoded with X-UserToken, to the page's own address asking for JSON:
   {"result": {"url"}} -> a route change (or a redraw of the same page), whose flashed message comes as a toast;
   a refusal 400 {"result": {"widgets": [...]}} -> the widget redrawn with the values kept and the errors shown. */
(function () {
  "use strict";
  const SP = window.SP;
  const el = SP.el;

  function cell(c, tag, attrs) {
    if (c !== null && typeof c === "object") {
      const sr = c.sr ? el("span", { class: "sr-only", text: c.sr }) : null;
      const inner = c.url ? el("a", { href: c.url }, c.text, sr) : c.strong ? el("strong", { text: c.text }) : c.text;
      return el(tag, attrs || {}, inner);
    }
    return el(tag, { ...(attrs || {}), text: c });
  }

  function describedBy(input, ids) {
    const list = ids.filter(Boolean);
    if (list.length) input.setAttribute("aria-describedby", list.join(" "));
  }

  /* one field of a form: its label (mandatory ones prefixed as ServiceNow's are), hint, control and error */
  function field(f, model) {
    const id = f.name;
    const wrap = el("div", { class: "sp-variable", id: `sp_variable_${f.name}` });
    const hint = f.hint ? el("p", { class: "hint", id: `${id}_hint`, text: f.hint }) : null;
    const error = f.error ? el("p", { class: "field-error", id: `${id}_error`, text: f.error }) : null;
    let control;
    let after = null;
    model[f.name] = f.value || "";
    if (f.kind === "choice") {
      control = el("select", { id, name: f.name },
        el("option", { value: "", text: f.placeholder || "-- None --" }),
        f.choices.map((c) => el("option", { value: c.value, text: c.label })));
      control.value = f.value || "";
      after = SP.select2(control, f.label, (value) => { model[f.name] = value; }).container;
    } else {
      control = f.kind === "textarea"
        ? el("textarea", { id, name: f.name, rows: f.rows || 4 })
        : el("input", { id, name: f.name, type: f.kind === "date" ? "date" : "text",
          inputmode: f.kind === "numeric" ? "numeric" : null, readonly: f.readonly || null, class: f.css || null });
      control.value = f.value || "";
      const keep = () => { model[f.name] = control.value; };
      control.addEventListener("input", keep);
      control.addEventListener("change", keep);
    }
    describedBy(control, [hint && hint.id, ...(f.described_by || []), error && error.id]);
    if (error) control.setAttribute("aria-invalid", "true");
    const label = f.hidden_label ? el("label", { for: id, class: "sr-only", text: f.label }) : SP.fieldLabel(f, id);
    wrap.append(label, hint || "", after || "", control, error || "");
    return wrap;
  }

  /* a table of fields (a forecast grid): one row per header, one field per cell */
  function grid(g, model) {
    return el("table", { class: "list grid", "aria-label": g.label },
      el("thead", {}, el("tr", {}, g.columns.map((c) => el("th", { scope: "col", text: c })))),
      el("tbody", {}, g.rows.map((r) => el("tr", { class: r.locked ? "locked" : null },
        el("th", { scope: "row" }, r.header, r.badge ? [" ", el("span", { class: "badge", text: r.badge })] : null),
        r.cells.map((f) => el("td", {}, field(f, model)))))));
  }

  function group(g, model) {
    const hint = g.hint ? el("p", { class: "hint", id: `${g.name}_hint`, text: g.hint }) : null;
    const error = g.error ? el("p", { class: "field-error", id: `${g.name}_error`, text: g.error }) : null;
    const set = el("fieldset", { id: g.name, "aria-invalid": error ? "true" : null }, el("legend", { text: g.legend }), hint, error);
    describedBy(set, [hint && hint.id, error && error.id]);
    for (const part of g.parts) {
      if (part.kind === "heading") set.append(el("h2", { class: "small-heading", text: part.text }));
      else set.append(field(part, model));
    }
    return set;
  }

  function form(b, section) {
    const model = {};
    const submit = el("button", { type: "submit", class: b.submit.class || "btn-primary", text: b.submit.label });
    const parts = (b.fields || []).map((f) => (f.kind === "group" ? group(f, model) : f.kind === "grid" ? grid(f, model) : field(f, model)));
    const f = el("form", { novalidate: true, class: b.inline ? "inline" : "panel", "aria-label": b.label || null },
      (b.intro || []).map((t) => el("p", { class: t.level ? `alert alert-${t.level}` : null, text: t.text })), parts, submit);
    f.addEventListener("submit", async (e) => {
      e.preventDefault();
      submit.disabled = true;
      try {
        const body = new URLSearchParams({ ...(b.hidden || {}), ...model });
        const r = await SP.api("POST", b.post_url, body);
        const result = r.json.result || {};
        if (r.status === 200 && result.url) {
          if (SP.sameUrl(result.url)) await SP.refresh(); else await SP.route(result.url);
          return;
        }
        if (r.status >= 400 && result.widgets) { section.replaceWith(SP.render(result.widgets[0])); return; }
        SP.toast("danger", (r.json.error || {}).message || "The change could not be saved.");
      } finally { submit.disabled = false; }
    });
    return f;
  }

  const blocks = {
    nav: (b) => el("nav", { "aria-label": b.label, class: "subnav" },
      el("ul", {}, b.links.map((l) => el("li", {}, el("a", { href: l.url, text: l.label }))))),
    text: (b) => el("p", { id: b.id || null, class: b.class || null }, b.text,
      (b.links || []).flatMap((l) => [" ", el("a", { href: l.url, text: l.label })])),
    pairs: (b) => SP.pairs(b.pairs),
    links: (b) => el("div", { class: "actions" }, b.links.map((l) => el("a", { class: l.class || "btn-secondary", href: l.url, text: l.label }))),
    list: (b) => el("ul", { "aria-label": b.label, class: "chips" }, b.items.map((t) => el("li", { text: t }))),
    subheading: (b) => el("h2", { id: b.id || null, text: b.text }),
    /* catalogue tiles (ids sc_cat_item_<sys_id>, as the base catalogue widgets give them) */
    tiles: (b) => el("ul", { class: "tiles", "aria-label": b.label }, b.items.map((t) => el("li", { class: "tile", id: t.id },
      el("a", { href: t.url, text: t.label }), t.text ? el("p", { class: "small", text: t.text }) : null))),
    /* a list's search: a route change to the list with its fields as query parameters (a GET form on classic
       pages); a choice field is a select2 whose value the form model takes from select2 alone */
    search: (b) => {
      const model = {};
      const parts = b.fields.map((f) => {
        if (f.kind === "choice") return field(f, model);
        const input = el("input", { id: f.name, name: f.name, type: "search", maxlength: f.maxlength || null,
          "aria-describedby": f.hint ? `${f.name}_hint` : null });
        input.value = f.value || "";
        model[f.name] = input.value;
        input.addEventListener("input", () => { model[f.name] = input.value; });
        return el("div", {}, el("label", { for: f.name, text: f.label }), input,
          f.hint ? el("p", { class: "hint", id: `${f.name}_hint`, text: f.hint }) : null);
      });
      const f = el("form", { role: "search", "aria-label": b.label, class: "toolbar" }, parts,
        el("button", { type: "submit", class: "btn-primary", text: b.button }));
      f.addEventListener("submit", (e) => {
        e.preventDefault();
        const u = new URL(b.url, location.href);
        for (const [k, v] of Object.entries({ ...model, ...(b.hidden || {}) })) u.searchParams.set(k, v);
        SP.route(u.href);
      });
      return f;
    },
    pager: (b) => el("nav", { class: "pager", "aria-label": b.label },
      b.prev ? el("a", { href: b.prev.url, rel: "prev", text: b.prev.label }) : null,
      el("span", { id: "page_info", text: b.text }),
      b.next ? el("a", { href: b.next.url, rel: "next", text: b.next.label }) : null),
    table: (b) => el("table", { class: "list", "aria-label": b.label },
      el("thead", {}, el("tr", {}, b.columns.map((c) => (typeof c === "string" ? el("th", { scope: "col", text: c })
        : el("th", { scope: "col", "aria-sort": c.sort || null }, el("a", { href: c.url, text: c.text }),
          c.sort ? ` ${c.sort === "ascending" ? "▲" : "▼"}` : null))))),
      el("tbody", {}, b.rows.length ? b.rows.map((r) => el("tr", {},
        r.header !== undefined ? cell(r.header, "th", { scope: "row" }) : null, r.cells.map((c) => cell(c, "td"))))
        : el("tr", {}, el("td", { colspan: b.columns.length, text: b.empty || "No records." })))),
    steps: (b) => el("ol", { class: "progress", "aria-label": b.label },
      b.items.map((s) => el("li", { class: s.done ? "done" : "todo", "aria-current": s.current ? "step" : null, text: s.text }))),
    activity: (b) => el("section", { class: "activity", "aria-labelledby": "activity-heading" },
      el("h2", { id: "activity-heading", text: "Activity" }),
      el("ol", { "aria-label": "Activity" }, b.items.map((a) => el("li", {},
        el("span", { class: "small", text: `${a.sys_created_on} UTC, ${a.sys_created_by}:` }), ` ${a.text}`)))),
  };

  SP.record = function (w) {
    const section = el("section", { class: "sp-widget", "data-widget": "record", "aria-labelledby": "record-heading" });
    const parts = [];
    for (const b of w.blocks) {
      if (b.kind === "heading") parts.push(el("h1", { id: "record-heading", text: b.text }));
      else if (b.kind === "summary") parts.push(el("div", { class: "alert alert-danger", role: "alert", text: b.text }));
      else if (b.kind === "form") parts.push(form(b, section));
      else parts.push(blocks[b.kind](b));
    }
    section.append(...parts);
    return section;
  };
})();

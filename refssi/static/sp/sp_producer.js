/* A record producer (catalog item) form: variables sp_formfield_<name>, mandatory labels prefixed as
   ServiceNow's are, choices through select2 (sp_select2.js), dependent choices by XHR, submitted by XHR to
   submit_producer and then a route change to the new record's ticket page. */
(function () {
  "use strict";
  const SP = window.SP;
  const el = SP.el;
  const MANDATORY = "Mandatory - must be populated before Submit";

  SP.fieldLabel = function (v, forId) {
    return el("label", { for: forId, id: `${forId}_label` },
      v.mandatory ? el("span", { class: "field-decorations", "aria-hidden": "true" }, el("span", { class: "fa-asterisk mandatory", title: "Mandatory" })) : null,
      v.mandatory ? el("span", { class: "sr-only" }, `${MANDATORY} `) : null,
      v.label);
  };

  SP.producer = function (w) {
    const model = {};
    const errorsBox = el("div", { id: "sp-form-errors" });
    const fields = {};
    const form = el("form", { novalidate: true, class: "sp-producer" });

    function setError(name, text) {
      const f = fields[name];
      if (!f) return;
      const id = `sp_formfield_${name}_error`;
      const old = document.getElementById(id);
      if (old) old.remove();
      f.input.removeAttribute("aria-invalid");
      f.input.removeAttribute("aria-describedby");
      if (text) {
        f.wrap.append(el("p", { class: "field-error", id, text }));
        f.input.setAttribute("aria-invalid", "true");
        f.input.setAttribute("aria-describedby", id);
      }
    }

    function choiceField(v, wrap) {
      const id = `sp_formfield_${v.name}`;
      const select = el("select", { id, name: v.name });
      const fill = (choices) => select.replaceChildren(...choices.map((c) => el("option", { value: c.value, text: c.label })));
      fill(v.choices);
      select.value = v.value;
      model[v.name] = v.value;
      const s2 = SP.select2(select, v.label, async (value) => {
        model[v.name] = value;
        for (const dep of w.variables.filter((d) => d.depends_on === v.name)) {
          const r = await SP.api("GET", `/api/now/sp/variable_choices?sys_id=${encodeURIComponent(w.sys_id)}&variable=${dep.name}&parent=${encodeURIComponent(value)}`);
          const f = fields[dep.name];
          f.fill(r.json.result || []);
          f.select.value = "";
          model[dep.name] = "";
          f.s2.refresh();
        }
      });
      wrap.append(SP.fieldLabel(v, id), s2.container, select);
      return { input: select, select, s2, fill };
    }

    function textField(v, wrap) {
      const id = `sp_formfield_${v.name}`;
      const input = v.kind === "textarea"
        ? el("textarea", { id, name: v.name, rows: 5 })
        : el("input", { id, name: v.name, type: v.input_type || "text", autocomplete: v.autocomplete || "off" });
      input.value = v.value;
      model[v.name] = v.value;
      input.addEventListener("input", () => { model[v.name] = input.value; });
      input.addEventListener("change", () => { model[v.name] = input.value; });
      wrap.append(SP.fieldLabel(v, id), input);
      return { input };
    }

    /* an Attachment variable: the chosen file uploads at once to the cart item (as ServiceNow's attachment
       variable does) and the variable's value is the attachment's sys_id */
    function attachmentField(v, wrap) {
      const id = `sp_formfield_${v.name}`;
      const input = el("input", { id, name: v.name, type: "file", accept: v.accept || null, "data-uploads-at-once": "true",
        "aria-describedby": `${id}_hint` });
      const hint = el("p", { class: "hint", id: `${id}_hint`, text: v.hint || "" });
      const chosen = el("p", { class: "small", id: `${id}_chosen`, "aria-live": "polite" });
      model[v.name] = "";
      input.addEventListener("change", async () => {
        const f = input.files[0];
        model[v.name] = "";
        chosen.textContent = "";
        if (!f) return;
        const q = new URLSearchParams({ table_name: "sc_cart_item", table_sys_id: w.cart, file_name: f.name });
        const r = await SP.api("POST", `/api/now/attachment/file?${q}`, f, f.type || "application/octet-stream");
        if (r.status === 201 && r.json.result) { model[v.name] = r.json.result.sys_id; chosen.textContent = `${f.name} attached`; }
        else setError(v.name, (r.json.error || {}).detail || (r.json.error || {}).message || "The file could not be attached.");
      });
      wrap.append(SP.fieldLabel(v, id), input, hint, chosen);
      return { input };
    }

    for (const section of w.sections) {
      const set = el("fieldset", {}, el("legend", { text: section.legend }), section.hint ? el("p", { class: "hint", text: section.hint }) : null);
      for (const name of section.variables) {
        const v = w.variables.find((x) => x.name === name);
        const wrap = el("div", { class: "sp-variable", id: `sp_variable_${v.name}` });
        const make = { choice: choiceField, attachment: attachmentField }[v.kind] || textField;
        fields[v.name] = { wrap, ...make(v, wrap) };
        set.append(wrap);
      }
      form.append(set);
    }
    const submit = el("button", { type: "submit", class: "btn-primary", text: w.submit });
    form.append(submit);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      submit.disabled = true;
      try {
        /* a record producer submits; a catalogue item is ordered (order_now) */
        const verb = w.order ? "order_now" : "submit_producer";
        const r = await SP.api("POST", `/api/sn_sc/v1/servicecatalog/items/${encodeURIComponent(w.sys_id)}/${verb}`,
          { sysparm_quantity: "1", variables: { ...model } });
        for (const name of Object.keys(fields)) setError(name, "");
        if (r.status === 200 && r.json.result) { SP.route(r.json.result.redirect_portal_url); return; }
        const errors = r.json.errors || {};
        errorsBox.replaceChildren(el("div", { class: "alert alert-danger", role: "alert", id: "form_error_summary" },
          el("p", { text: (r.json.error || {}).message || w.form_error }),
          el("ul", {}, Object.entries(errors).map(([k, m]) => el("li", {}, el("a", { href: `#sp_formfield_${k}`, "data-sp-document": true, text: m }))))));
        for (const [k, m] of Object.entries(errors)) setError(k, m);
      } finally { submit.disabled = false; }
    });
    return el("section", { class: "panel sp-widget", "data-widget": "producer", "aria-labelledby": "producer-heading" },
      el("h1", { id: "producer-heading", text: w.heading }), errorsBox, form);
  };
})();

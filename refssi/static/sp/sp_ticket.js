/* The standard ticket page: header, record values as label/value pairs, ticket actions (inputs in a modal),
   Ticket Conversations (Enter or Send posts by XHR) and attachments (the paperclip uploads at once). */
(function () {
  "use strict";
  const SP = window.SP;
  const el = SP.el;

  /* post an action; "" when done (the page's widgets are fetched again), else the server's message */
  async function act(w, action, values) {
    const r = await SP.api("POST", "/api/now/sp/ticket_action", { table: w.table, sys_id: w.sys_id, action, ...values });
    if (r.status === 200 && r.json.result) {
      await SP.refresh();
      SP.toast("success", r.json.result.message);
      return "";
    }
    return (r.json.error || {}).detail || (r.json.error || {}).message || "The action failed.";
  }

  function actions(w) {
    if (!w.actions.length) return null;
    return el("section", { class: "panel", "aria-labelledby": "actions_heading", "data-widget": "ticket-actions" },
      el("h2", { id: "actions_heading", text: w.actions_heading }),
      el("div", { class: "actions" }, w.actions.map((a) => el("button", {
        type: "button", class: "btn-secondary", id: `sp-action-${a.action}`, text: a.label,
        onclick: () => SP.modal(a.dialog, (values) => act(w, a.action, values)),
      }))));
  }

  function conversation(w) {
    const c = w.conversation;
    const stream = el("ol", { class: "stream", id: "sp-conversation", "aria-label": `${c.heading} entries` },
      c.entries.map((e) => el("li", { class: `entry entry-${e.kind} sp-entry`, id: `sp-entry-${e.sys_id}` },
        el("header", {}, el("strong", { text: e.author }), " ",
          el("span", { class: "small" }, `${e.kind === "work_notes" ? "Work notes" : "Additional comments"} · `,
            el("time", { datetime: `${e.stamp}Z`, title: `${e.stamp} UTC`, text: e.ago }))),
        e.update_type ? el("p", { class: "update-type", text: e.update_type }) : null,
        el("p", { class: "multiline", text: e.text }))));
    let composer = null;
    if (c.can_post) {
      /* an update type (DCC's incidents) only where the record asks for one */
      const type = c.update_type ? el("select", { id: "sp-update-type", name: "u_update_type" },
        el("option", { value: "", text: "-- Choose --" }), c.update_type.choices.map((t) => el("option", { value: t, text: t }))) : null;
      const box = el("textarea", { id: "sp-comment", name: "comments", rows: 2, placeholder: c.placeholder });
      const send = el("button", { type: "submit", class: "btn-primary", text: c.send });
      composer = el("form", { class: "composer", novalidate: true },
        type ? el("label", { for: "sp-update-type", text: c.update_type.label }) : null, type,
        el("label", { for: "sp-comment", text: c.comment_label }), box, send);
      const post = async () => {
        if (send.disabled) return; // one post at a time
        send.disabled = true;
        try {
          const problem = await act(w, "comment", { comments: box.value, ...(type ? { u_update_type: type.value } : {}) });
          if (problem) SP.toast("danger", problem);
        } finally { send.disabled = false; }
      };
      composer.addEventListener("submit", (e) => { e.preventDefault(); post(); });
      box.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); post(); } });
    }
    return el("section", { class: "panel", id: "activity", "aria-labelledby": "activity_heading", "data-widget": "ticket-conversations" },
      el("h2", { id: "activity_heading", text: c.heading }), composer, stream);
  }

  function paperclip() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z");
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  function attachments(w) {
    const a = w.attachments;
    let add = null;
    if (a.can_add) {
      const input = el("input", { type: "file", id: "sp-attachment-input", class: "sr-only", multiple: true, tabindex: "-1", "aria-hidden": "true" });
      input.addEventListener("change", async () => {
        const files = Array.from(input.files);
        input.value = "";
        for (const f of files) {
          const q = new URLSearchParams({ table_name: w.table, table_sys_id: w.sys_id, file_name: f.name });
          const r = await SP.api("POST", `/api/now/attachment/file?${q}`, f, f.type || "application/octet-stream");
          if (r.status === 201) SP.toast("success", `${a.attached}: ${f.name}`);
          else SP.toast("danger", (r.json.error || {}).detail || (r.json.error || {}).message || "The file was not attached.");
        }
        await SP.refresh();
      });
      add = el("div", { class: "sp-attach" }, input, el("button", { type: "button", class: "btn-secondary sp-paperclip",
        id: "sp-add-attachments", "aria-label": a.add_label, title: a.add_label, onclick: () => input.click() },
        paperclip()), el("span", { class: "hint", text: a.hint }));
    }
    return el("section", { class: "panel", id: "attachments", "aria-labelledby": "attachments_heading", "data-widget": "attachments" },
      el("h2", { id: "attachments_heading", text: a.heading }),
      a.items.length ? el("ul", { class: "attachments", id: "sp-attachments" }, a.items.map((i) => el("li", {},
        el("a", { href: i.url, download: true, text: i.file_name }), " ", el("span", { class: "small", text: `${i.size} · ${i.by}` }))))
        : el("p", { text: a.empty }),
      add);
  }

  SP.ticket = function (w) {
    return el("article", { class: "ticket sp-widget", "aria-labelledby": "ticket_number", "data-widget": "ticket" },
      el("header", { class: "panel ticket-header" },
        el("h1", { id: "ticket_number", text: w.number }),
        el("p", { class: "ticket-title", text: w.title }),
        SP.pairs(w.meta)),
      el("div", { class: "ticket-body" },
        el("section", { class: "panel", "aria-labelledby": "details_heading", "data-widget": "ticket-fields" },
          el("h2", { id: "details_heading", text: w.details_heading }), SP.pairs(w.fields),
          (w.links || []).map((l) => el("p", { class: "ticket-link" }, el("a", { href: l.url, text: l.label })))),
        actions(w), conversation(w), attachments(w)));
  };
})();

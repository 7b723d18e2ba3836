// Administrators: tenants (the businesses) and their API keys.

import { getJson, send } from "../api.js";
import { announce, fill, h, link, notice, table, when } from "../dom.js";
import { ROLE_NAMES, showFailure } from "../page.js";

/** A small form with one field and a button; `submit(value)` does the work, then the view redraws. */
function oneFieldForm(id, label, field, buttonText, submit, feedback) {
  const button = h("button", { type: "submit" }, buttonText);
  const form = h("form", { class: "card inline" }, h("label", { for: id }, label), field, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    fill(feedback);
    try {
      await submit(field.value);
    } catch (error) {
      showFailure(error, feedback);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export async function tenantsView(root, params, { signal }) {
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const name = h("input", { id: "tenant-name", required: true, autocomplete: "off" });
  root.append(h("h1", {}, "Tenants and keys"),
    h("p", { class: "help" }, "A tenant is one business. Its keys let its people sign in here and use the API."),
    oneFieldForm("tenant-name", "New tenant’s name", name, "Create tenant", async (value) => {
      if (!value.trim()) {
        fill(feedback, notice("error", "Type the new tenant’s name."));
        return;
      }
      const tenant = await send("POST", "/api/tenants", { json: { name: value.trim() }, signal });
      fill(feedback, notice("ok", `Tenant ${tenant.name} created. `, link(`tenants/${tenant.id}`, "Make its keys")));
      name.value = "";
      await draw();
    }, feedback),
    feedback, list);

  async function draw() {
    const tenants = await getJson("/api/tenants", { signal });
    fill(list, table("Tenants", [
      { label: "Tenant", cell: (t) => link(`tenants/${encodeURIComponent(t.id)}`, t.name,
        { "aria-label": `Keys of ${t.name}` }) },
      { label: "Created", cell: (t) => when(t.created_at) },
    ], tenants, "No tenants yet."));
  }
  await draw();
}

export async function keysView(root, { id }, { signal }) {
  const tenants = await getJson("/api/tenants", { signal });
  const tenant = tenants.find((t) => t.id === id);
  if (!tenant) {
    root.append(h("h1", {}, "Tenant not found"), h("p", {}, link("tenants", "Back to the tenants")));
    return;
  }
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const role = h("select", { id: "key-role" }, Object.entries(ROLE_NAMES).map(([value, text]) =>
    h("option", { value }, text)));
  root.append(h("p", {}, link("tenants", "← Tenants")), h("h1", {}, `Keys of ${tenant.name}`),
    h("p", { class: "help" }, "Business keys manage campaigns and see results; operator keys see calls, "
      + "recordings and results; administrator keys can do everything for every tenant."),
    oneFieldForm("key-role", "Role of the new key", role, "Create key", async (value) => {
      const made = await send("POST", `/api/tenants/${encodeURIComponent(id)}/keys`, { json: { role: value }, signal });
      fill(feedback, notice("ok", h("p", {}, `New ${ROLE_NAMES[made.role]} key. Copy it now: it is not shown again.`),
        h("input", { class: "secret", readonly: true, value: made.key, "aria-label": "The new key", onfocus:
          (event) => event.target.select() })));
      announce("Key created. Copy it now: it is not shown again.");
      await draw();
    }, feedback),
    feedback, list);

  async function revoke(key, button) {
    button.disabled = true;
    fill(feedback);
    try {
      await send("DELETE", `/api/keys/${encodeURIComponent(key.id)}`, { signal });
      fill(feedback, notice("ok", `Key ${key.id} is revoked; it stopped working at once.`));
      await draw();
    } catch (error) {
      button.disabled = false;
      showFailure(error, feedback);
    }
  }

  async function draw() {
    const keys = await getJson(`/api/tenants/${encodeURIComponent(id)}/keys`, { signal });
    fill(list, table("Keys", [
      { label: "Key id", cell: (k) => h("code", {}, k.id) },
      { label: "Role", cell: (k) => ROLE_NAMES[k.role] || k.role },
      { label: "Created", cell: (k) => when(k.created_at) },
      { label: "Status", cell: (k) => (k.revoked_at ? `Revoked ${when(k.revoked_at)}` : h("button", { type: "button",
        onclick: (event) => revoke(k, event.target), "aria-label": `Revoke key ${k.id}` }, "Revoke")) },
    ], keys, "This tenant has no keys yet."));
  }
  await draw();
}

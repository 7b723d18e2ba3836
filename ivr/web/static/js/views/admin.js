// Administrators: tenants (the businesses) and their API keys.

import { getJson, send } from "../api.js";
import { announce, fill, h, link, notice, table, when } from "../dom.js";
import { t } from "../i18n.js";
import { ROLES, roleName, showFailure } from "../page.js";

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
  root.append(h("h1", {}, t("admin.title")),
    h("p", { class: "help" }, t("admin.help")),
    oneFieldForm("tenant-name", t("admin.newName"), name, t("admin.create"), async (value) => {
      if (!value.trim()) {
        fill(feedback, notice("error", t("admin.nameEmpty")));
        return;
      }
      const tenant = await send("POST", "/api/tenants", { json: { name: value.trim() }, signal });
      fill(feedback, notice("ok", `${t("admin.created", { name: tenant.name })} `,
        link(`tenants/${tenant.id}`, t("admin.makeKeys"))));
      name.value = "";
      await draw();
    }, feedback),
    feedback, list);

  async function draw() {
    const tenants = await getJson("/api/tenants", { signal });
    fill(list, table(t("admin.tenants"), [
      { label: t("admin.tenant"), cell: (tenant) => link(`tenants/${encodeURIComponent(tenant.id)}`, tenant.name,
        { "aria-label": t("admin.keysOf", { name: tenant.name }) }) },
      { label: t("admin.createdAt"), cell: (tenant) => when(tenant.created_at) },
    ], tenants, t("admin.noTenants")));
  }
  await draw();
}

export async function keysView(root, { id }, { signal }) {
  const tenants = await getJson("/api/tenants", { signal });
  const tenant = tenants.find((t) => t.id === id);
  if (!tenant) {
    root.append(h("h1", {}, t("admin.notFound")), h("p", {}, link("tenants", t("admin.backToTenants"))));
    return;
  }
  const feedback = h("div", { class: "feedback" });
  const list = h("div");
  const role = h("select", { id: "key-role" }, ROLES.map((value) => h("option", { value }, roleName(value))));
  root.append(h("p", {}, link("tenants", t("admin.back"))), h("h1", {}, t("admin.keysOf", { name: tenant.name })),
    h("p", { class: "help" }, t("admin.keysHelp")),
    oneFieldForm("key-role", t("admin.role"), role, t("admin.createKey"), async (value) => {
      const made = await send("POST", `/api/tenants/${encodeURIComponent(id)}/keys`, { json: { role: value }, signal });
      fill(feedback, notice("ok", h("p", {}, t("admin.newKey", { role: roleName(made.role) })),
        h("input", { class: "secret", readonly: true, value: made.key, "aria-label": t("admin.theKey"), onfocus:
          (event) => event.target.select() })));
      announce(t("admin.keyCreated"));
      await draw();
    }, feedback),
    feedback, list);

  async function revoke(key, button) {
    button.disabled = true;
    fill(feedback);
    try {
      await send("DELETE", `/api/keys/${encodeURIComponent(key.id)}`, { signal });
      fill(feedback, notice("ok", t("admin.revoked", { id: key.id })));
      await draw();
    } catch (error) {
      button.disabled = false;
      showFailure(error, feedback);
    }
  }

  async function draw() {
    const keys = await getJson(`/api/tenants/${encodeURIComponent(id)}/keys`, { signal });
    fill(list, table(t("admin.keys"), [
      { label: t("admin.keyId"), cell: (k) => h("code", {}, k.id) },
      { label: t("admin.keyRole"), cell: (k) => roleName(k.role) },
      { label: t("admin.createdAt"), cell: (k) => when(k.created_at) },
      { label: t("admin.status"), cell: (k) => (k.revoked_at ? t("admin.revokedAt", { at: when(k.revoked_at) })
        : h("button", { type: "button", onclick: (event) => revoke(k, event.target),
          "aria-label": t("admin.revokeKey", { id: k.id }) }, t("admin.revoke"))) },
    ], keys, t("admin.noKeys")));
  }
  await draw();
}

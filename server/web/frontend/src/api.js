import { zip } from "./zip.js";

// The studio's calls to /api/processes/ (docs: README, "The process studio"): the page's
// session cookie and its CSRF token, JSON or multipart, each answer with its status.

export function client(base, csrfToken) {
  async function call(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken };
    if (body !== undefined && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    const response = await fetch(base + path, {
      method, headers, body, credentials: "same-origin",
    });
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch { data = null; }
    }
    return { status: response.status, ok: response.ok, data };
  }

  return {
    version: (key, n) => call("GET", `${key}/versions/${n}/`),
    draft: (key) => call("GET", `${key}/draft/`),
    saveDraft: (key, draft) => call("PUT", `${key}/draft/`, draft),
    dropDraft: (key) => call("DELETE", `${key}/draft/`),
    // Play a script on the saved draft (draft: true) or a version, on a virtual clock.
    rehearse: (key, request) => call("POST", `${key}/rehearse/`, request),
    // Deploy (or, with dryRun, only validate) a package: its files in one zip (zip.js says
    // why), the mapping, the note.
    deploy(pkg, { dryRun = false } = {}) {
      const form = new FormData();
      form.append("files", zip(pkg.files), "package.zip");
      form.append("mapping", JSON.stringify(pkg.mapping || {}));
      form.append("note", pkg.note || "");
      if (dryRun) form.append("dry_run", "1");
      return call("POST", "", form);
    },
  };
}

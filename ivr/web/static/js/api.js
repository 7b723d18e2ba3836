// The public HTTP API with the key the person typed (kept in sessionStorage until sign out). Every request says
// the page's language (Accept-Language), so the server's error messages come in it.

import { language, t } from "./i18n.js";

const KEY = "ivr.key";
const ME = "ivr.me";

/** A failed request: HTTP status, the server's message and, for invalid campaign files, its issues. */
export class ApiFailure extends Error {
  constructor(status, message, issues = [], body = {}) {
    super(message);
    this.status = status;
    this.issues = issues;
    this.body = body;
  }
}

const PLAIN = { 401: "api.401", 403: "api.403", 404: "api.404", 413: "api.413", 503: "api.503" };

/** The message of a failed answer: the server's own (in our language), else plain words for its status. */
function plainMessage(status, body) {
  if (body.error && status !== 500) return body.error;
  return PLAIN[status] ? t(PLAIN[status]) : t("api.failed", { status });
}

async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's error page, for instance
  }
  return new ApiFailure(response.status, plainMessage(response.status, body),
    Array.isArray(body.issues) ? body.issues : [], body);
}

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  get me() { return JSON.parse(sessionStorage.getItem(ME) || "null"); },
  save(key, me) {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(ME, JSON.stringify(me));
  },
  clear() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ME);
  },
};

/** fetch() with the key; the response when it is 2xx, else an ApiFailure. */
async function request(method, path, { json, text, type, key = session.key, signal } = {}) {
  const headers = { Authorization: `Bearer ${key}`, "Accept-Language": language };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (text !== undefined) {
    headers["Content-Type"] = type;
    body = text;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiFailure(0, t("api.unreachable"));
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson(path, options) {
  return (await request("GET", path, options)).json();
}

export async function send(method, path, options) {
  const response = await request(method, path, options);
  return response.status === 204 ? null : response.json();
}

/** A protected file (recording, CSV) as an object URL the page can play or offer for download. */
export async function blobUrl(path, options) {
  const response = await request("GET", path, options);
  return URL.createObjectURL(await response.blob());
}

/** A CSV export for people: its column headers in the page's language (without ?lang= they are the column
 * keys programs read). */
export function csvPath(path) {
  return `${path}${path.includes("?") ? "&" : "?"}lang=${language}`;
}

/**
 * Read Server-Sent Events from `path` (fetch, since EventSource cannot send the key), calling
 * onEvent(name, data) for each; resolves when the server ends the stream, rejects on failure.
 */
export async function stream(path, onEvent, signal) {
  const response = await request("GET", path, { signal });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, data.join("\n"));
    }
  }
}

/**
 * Send a file as the raw body (the browser streams it from disk), reporting how much is sent with
 * onProgress(sent, total); resolves with the JSON answer, rejects with an ApiFailure. XMLHttpRequest,
 * since fetch() cannot tell how far an upload is.
 */
export function upload(method, path, file, { type, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.setRequestHeader("Authorization", `Bearer ${session.key}`);
    xhr.setRequestHeader("Accept-Language", language);
    xhr.setRequestHeader("Content-Type", type || file.type || "application/octet-stream");
    xhr.responseType = "text";
    if (onProgress) xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.total));
    xhr.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        // not JSON: a proxy's error page, for instance
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiFailure(xhr.status, plainMessage(xhr.status, body), []));
    });
    xhr.addEventListener("error", () => reject(new ApiFailure(0, t("api.unreachable"))));
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    if (signal) signal.addEventListener("abort", () => xhr.abort());
    xhr.send(file);
  });
}

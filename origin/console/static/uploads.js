// media-origin console: one upload with its progress bar, the server's verdict
// and, for a file WhatsApp would refuse, a Convert button. Plain ES module, no
// build step; the console's own file (its CSP allows no inline script).

const REFUSED = new Set([413, 415, 422]);

/** A list item for one file: its name, a progress bar and what happened. */
export function uploadItem(list, label) {
  const item = document.createElement("li");
  item.className = "upload-item";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = label;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload of ${label}`);
  const status = document.createElement("span");
  status.className = "status";
  status.textContent = "waiting";
  item.append(name, bar, status);
  list.append(item);
  return { item, bar, status };
}

/** PUT the file at ``path`` through the console, the bar following the bytes sent. */
export function put(file, path, csrf, shown, query = "") {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("PUT", `/_console/files${encodeURI(path)}${query}`);
    request.setRequestHeader("X-CSRF-Token", csrf);
    if (file.type) request.setRequestHeader("Content-Type", file.type);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) shown.bar.value = Math.round((event.loaded / event.total) * 100);
      shown.status.textContent = `uploading ${shown.bar.value}%`;
    };
    request.onload = () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch { body = { message: request.responseText }; }
      resolve({ status: request.status, body });
    };
    request.onerror = () => resolve({ status: 0, body: { message: "the connection failed" } });
    shown.status.textContent = "uploading";
    request.send(file);
  });
}

/** Show the server's answer: the verdict badge and the problems in words. */
export async function show(answer, file, path, csrf, shown) {
  shown.item.querySelectorAll(".badge, .problems, button").forEach((node) => node.remove());
  const { status, body } = answer;
  if (status === 202 && body.job) return followJob(body.job, file, path, csrf, shown);
  const badge = document.createElement("span");
  const problems = document.createElement("ul");
  problems.className = "problems";
  if (status === 200 || status === 201) {
    shown.bar.value = 100;
    const warnings = body.warnings || [];
    badge.textContent = warnings.length ? "warn" : "ok";
    warnings.forEach((p) => addLine(problems, p.message));
    const link = document.createElement("a");
    link.href = `/_console/file${encodeURI(body.path)}`;
    link.textContent = body.path;
    shown.status.textContent = body.converted ? "converted and stored as " : "stored as ";
    shown.status.append(link);
  } else {
    badge.textContent = REFUSED.has(status) ? "reject" : "error";
    shown.status.textContent = `refused (HTTP ${status})`;
    const reasons = body.problems && body.problems.length ? body.problems : [body];
    reasons.forEach((p) => addLine(problems, p.message || "no reason given"));
  }
  badge.className = `badge ${badge.textContent}`;
  shown.item.append(badge, problems);
  if (REFUSED.has(status) && body.error !== "active_content") {
    const convert = document.createElement("button");
    convert.type = "button";
    convert.textContent = "Convert";
    convert.addEventListener("click", async () => {
      convert.disabled = true;
      shown.bar.value = 0;
      show(await put(file, path, csrf, shown, "?convert=true"), file, path, csrf, shown);
    });
    shown.item.append(convert);
  }
  return answer;
}

/** A conversion that outlasted the upload's answer: its job, asked twice a second. */
async function followJob(location, file, path, csrf, shown) {
  const job = location.replace(/^\/_jobs\//, "/_console/jobs/");
  for (let asked = 0; asked < 2400; asked += 1) {
    const reply = await fetch(job, { credentials: "same-origin" });
    const state = await reply.json();
    shown.bar.value = state.progress || 0;
    shown.status.textContent = `converting ${shown.bar.value}%`;
    if (state.state === "done") {
      const result = Array.isArray(state.result) ? state.result[0] : state.result;
      return show({ status: 201, body: result }, file, path, csrf, shown);
    }
    if (state.state === "failed") {
      return show({ status: 422, body: state.error || {} }, file, path, csrf, shown);
    }
    await new Promise((wait) => setTimeout(wait, 500));
  }
  shown.status.textContent = "still converting: reload the folder later";
}

function addLine(list, text) {
  const line = document.createElement("li");
  line.textContent = text;
  list.append(line);
}

/** Upload one file end to end: item, PUT, answer. */
export async function upload(file, path, csrf, list) {
  const shown = uploadItem(list, path);
  return show(await put(file, path, csrf, shown), file, path, csrf, shown);
}

// A file's page: the copy buttons, the recipient in the message JSON, Replace
// (with its progress) and Delete, each confirmed with what Meta's cache means.
import { upload } from "./uploads.js";

const copied = document.getElementById("copied");
const WARNING =
  "Meta keeps what it fetched from an exact URL for up to 10 minutes: messages sent " +
  "with the plain link may carry the old file for that long.";

function valueOf(id) {
  const node = document.getElementById(id);
  if (id === "message-json") {
    const body = JSON.parse(node.dataset.template || node.textContent);
    node.dataset.template = node.dataset.template || node.textContent;
    body.to = document.getElementById("recipient").value.replace(/[^0-9]/g, "");
    return JSON.stringify(body, null, 2);
  }
  return node.value !== undefined && node.tagName === "SELECT" ? node.value : node.textContent;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea");  // a browser without the clipboard API
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  copied.dataset.value = text;
  copied.textContent = "Copied.";
}

document.querySelectorAll("button[data-copy]").forEach((button) => {
  button.addEventListener("click", () => copy(valueOf(button.dataset.copy)));
});

const change = document.querySelector(".change");
const replace = document.getElementById("replace");
const replacement = document.getElementById("replace-input");
replace.addEventListener("click", async () => {
  const file = replacement.files[0];
  if (!file) {
    copied.textContent = "Choose the replacement file first.";
    return;
  }
  if (!window.confirm(`Replace ${change.dataset.path}? ${WARNING}`)) return;
  const answer = await upload(file, change.dataset.path, change.dataset.csrf, document.getElementById("uploads"));
  if (answer && (answer.status === 200 || answer.status === 201)) window.location.reload();
});

document.getElementById("delete-form").addEventListener("submit", (event) => {
  if (!window.confirm(`Delete ${change.dataset.path}? Meta may still send its cached copy for up to 10 minutes; after that its link fails.`)) {
    event.preventDefault();
  }
});

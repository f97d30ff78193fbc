// The folder page's upload: the file input and drag and drop (files, and
// folders with everything in them), several at once, each with its own bar.
import { upload } from "./uploads.js";

const section = document.querySelector(".upload");
const folder = section.dataset.folder;
const csrf = section.dataset.csrf;
const list = document.getElementById("uploads");
const input = document.getElementById("upload-input");
const drop = document.getElementById("drop");
const AT_ONCE = 3;

async function uploadAll(files) {
  const queue = [...files];
  const worker = async () => {
    while (queue.length) {
      const { file, relative } = queue.shift();
      await upload(file, folder + relative, csrf, list);
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, queue.length) }, worker));
}

input.addEventListener("change", () => {
  uploadAll([...input.files].map((file) => ({ file, relative: file.name })));
  input.value = "";
});

/** Every file under a dropped entry, with its path below the drop. */
async function filesOf(entry, under = "") {
  if (entry.isFile) {
    const file = await new Promise((done, failed) => entry.file(done, failed));
    return [{ file, relative: under + file.name }];
  }
  const reader = entry.createReader();
  const found = [];
  for (;;) {
    const batch = await new Promise((done, failed) => reader.readEntries(done, failed));
    if (!batch.length) break;
    for (const child of batch) found.push(...(await filesOf(child, `${under}${entry.name}/`)));
  }
  return found;
}

for (const name of ["dragenter", "dragover"]) {
  drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
}
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const items = [...(event.dataTransfer.items || [])];
  const entries = items.map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
  let files;
  if (entries.length) {
    files = (await Promise.all(entries.map((entry) => filesOf(entry)))).flat();
  } else {
    files = [...event.dataTransfer.files].map((file) => ({ file, relative: file.name }));
  }
  uploadAll(files);
});

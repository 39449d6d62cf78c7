/* ppcopt dashboard: optional behaviour. Every page reads and every form posts without it. */
"use strict";

function csrfOf(form) {
  const field = form.querySelector("input[name=csrf]");
  return field ? field.value : "";
}

/* Upload: drop a file on the zone; send it with a progress bar; show the report in place. */
function setUpUpload(form) {
  const zone = document.getElementById("drop-zone");
  const input = form.querySelector("input[type=file]");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      status.textContent = "Ready: " + input.files[0].name;
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    bar.value = 0;
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) {
        bar.value = Math.round((100 * progress.loaded) / progress.total);
        status.textContent = "Uploading: " + bar.value + "%";
      }
    });
    request.upload.addEventListener("load", () => { status.textContent = "Checking and storing the rows…"; });
    request.addEventListener("load", () => {
      const answer = new DOMParser().parseFromString(request.responseText, "text/html");
      const result = answer.getElementById("upload-result");
      const here = document.getElementById("upload-result");
      if (result && here) {
        here.replaceWith(result);
        status.textContent = request.status < 300 ? "Done." : "The file was not stored.";
      } else {
        status.textContent = "The server answered " + request.status + ": reload the page and retry.";
      }
      bar.hidden = true;
    });
    request.addEventListener("error", () => { status.textContent = "The upload failed: check the connection and retry."; });
    request.send(new FormData(form));
  });
}

/* What-if: the form as the API's request body; the result is replaced whenever a field changes. */
function whatIfBody(form) {
  const value = (name) => {
    const field = form.elements.namedItem(name);
    return field && field.value.trim() ? field.value.trim() : null;
  };
  const body = { level: "campaign" };
  ["budget", "monthly_cap", "objective", "target_cpa"].forEach((name) => {
    if (value(name) !== null) body[name] = value(name);
  });
  ["margin", "conversions_target", "max_change", "target_roas"].forEach((name) => {
    if (value(name) !== null) body[name] = Number(value(name)) || value(name);
  });
  body.groups = (form.elements.namedItem("groups").value || "").split("\n").map((g) => g.trim()).filter(Boolean);
  body.conservative = form.elements.namedItem("conservative").checked;
  body.allow_new = form.elements.namedItem("allow_new").checked;
  body.locked_campaigns = [];
  body.campaign_bounds = {};
  form.querySelectorAll("tr[data-campaign-row]").forEach((row) => {
    const index = row.dataset.campaignRow;
    const name = form.elements.namedItem("campaign_" + index).value;
    if (form.elements.namedItem("lock_" + index).checked) body.locked_campaigns.push(name);
    const low = form.elements.namedItem("min_" + index).value.trim();
    const high = form.elements.namedItem("max_" + index).value.trim();
    if (low || high) {
      body.campaign_bounds[name] = {};
      if (low) body.campaign_bounds[name].min = low;
      if (high) body.campaign_bounds[name].max = high;
    }
  });
  return body;
}

function showFieldErrors(form, errors) {
  form.querySelectorAll(".field-error.live").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  Object.entries(errors).forEach(([name, message]) => {
    let field = form.elements.namedItem(name);
    if (name.startsWith("campaign:")) {
      const campaign = name.slice("campaign:".length);
      const hidden = Array.from(form.querySelectorAll("input[name^=campaign_]")).find((i) => i.value === campaign);
      field = hidden ? form.elements.namedItem("min_" + hidden.name.slice("campaign_".length)) : null;
    }
    if (!field || !field.insertAdjacentElement) return;
    const note = document.createElement("span");
    note.className = "field-error live";
    note.setAttribute("role", "alert");
    note.id = "live-error-" + name.replace(/[^a-z0-9_]/gi, "_");
    note.textContent = message;
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", note.id);
    (field.closest("td") || field).insertAdjacentElement("afterend", note);
  });
}

function setUpWhatIf(form) {
  const result = document.getElementById("whatif-result");
  let timer = null;
  let sent = 0;
  const update = async () => {
    const number = ++sent;
    result.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfOf(form) },
        body: JSON.stringify(whatIfBody(form)),
        credentials: "same-origin",
      });
      const html = await response.text();
      if (number !== sent) return;
      const answer = new DOMParser().parseFromString(html, "text/html");
      const holder = answer.querySelector(".whatif-errors");
      if (holder) {
        result.innerHTML = answer.body.innerHTML;
        showFieldErrors(form, JSON.parse(holder.dataset.errors || "{}"));
      } else {
        const message = answer.querySelector(".notice.error");
        result.innerHTML = "";
        const note = document.createElement("p");
        note.className = "notice error";
        note.textContent = message ? message.textContent : "The server answered " + response.status + ".";
        result.appendChild(note);
      }
    } catch (error) {
      result.textContent = "Could not reach the server: " + error;
    } finally {
      if (number === sent) result.setAttribute("aria-busy", "false");
    }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(update, 400); };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.id === "save-policy") return;
    event.preventDefault();
    clearTimeout(timer);
    update();
  });
}

/* Long-running forms (the nightly job) say what they are doing while the server works. */
function setUpBusy(form) {
  form.addEventListener("submit", () => {
    const status = form.querySelector("[role=status]");
    const button = form.querySelector("button[type=submit]");
    if (status) status.textContent = form.dataset.busy;
    if (button) button.disabled = true;
  });
}

/* A running nightly run's page: fetch the page again every second and swap in its steps, until
   the run has ended (without a script, a <noscript> refresh reloads it instead). */
function setUpRunWatch(live) {
  const poll = async () => {
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) {
        document.getElementById("run-now").textContent = "The server answered " + response.status + ": reload the page.";
        return;
      }
      const answer = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = answer.getElementById("run-live");
      if (!fresh) return;
      live.innerHTML = fresh.innerHTML;
      live.dataset.status = fresh.dataset.status;
    } catch (error) {
      document.getElementById("run-now").textContent = "Could not reach the server; retrying.";
    }
    if (live.dataset.status === "running") setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  const upload = document.getElementById("upload-form");
  if (upload) setUpUpload(upload);
  const whatIf = document.getElementById("whatif-form");
  if (whatIf) setUpWhatIf(whatIf);
  document.querySelectorAll("form[data-busy]").forEach(setUpBusy);
  const run = document.getElementById("run-live");
  if (run && run.dataset.status === "running") setUpRunWatch(run);
});

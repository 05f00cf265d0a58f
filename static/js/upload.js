/* Removal Desk: drag-and-drop upload, one request per file, with a progress bar and the
   server's answer ({ok, name, error}) next to each file name. Without this script the
   form posts all files at once, which works too. No build step, no dependencies. */
(function () {
  "use strict";
  if (!window.FormData || !window.XMLHttpRequest || !document.querySelector) { return; }

  var CONCURRENCY = 2;

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (all, key) { return key in values ? values[key] : all; });
  }

  function humanSize(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " kB";
  }

  function setup(form) {
    var input = form.querySelector('input[type="file"][name="works"]');
    var zipInput = form.querySelector('input[type="file"][name="zip"]');
    var zone = form.querySelector("[data-dropzone]");
    var status = form.querySelector("[data-upload-status]");
    var list = form.querySelector("[data-upload-list]");
    var summary = form.querySelector("[data-upload-summary]");
    var next = form.querySelector("[data-upload-next]");
    var text = form.querySelector("[data-upload-text]").dataset;
    var submit = form.querySelector("[data-upload-submit]");
    var formErrors = document.querySelector("[data-form-errors]");
    var queue = [];
    var busy = false;

    zone.classList.add("dropzone--ready");
    form.querySelector("[data-dropzone-hint]").hidden = false;

    function addFiles(files) {
      for (var i = 0; i < files.length; i++) {
        var file = files[i];
        var item = document.createElement("li");
        item.className = "upload";
        var name = document.createElement("span");
        name.className = "file-name";
        name.textContent = file.name;
        var size = document.createElement("span");
        size.className = "hint";
        size.textContent = " " + humanSize(file.size) + " ";
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = 0;
        bar.setAttribute("aria-label", format(text.progress, {name: file.name}));
        var state = document.createElement("span");
        state.className = "upload-state";
        state.textContent = text.waiting;
        item.appendChild(name);
        item.appendChild(size);
        item.appendChild(bar);
        item.appendChild(state);
        list.appendChild(item);
        queue.push({file: file, item: item, bar: bar, state: state});
      }
      status.hidden = queue.length === 0;
    }

    input.addEventListener("change", function () {
      if (busy) { return; }
      addFiles(input.files);
      input.value = "";
    });

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dropzone--over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("dropzone--over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!busy && event.dataTransfer && event.dataTransfer.files.length) { addFiles(event.dataTransfer.files); }
    });

    form.addEventListener("submit", function (event) {
      if (zipInput && zipInput.files.length && queue.length) {
        addFiles(zipInput.files);
        zipInput.value = "";
      }
      if (!queue.length || busy) { return; }  // nothing queued: the plain form does the work
      event.preventDefault();
      busy = true;
      submit.disabled = true;
      if (form.dataset.uploader === "create") {
        createThenUpload();
      } else {
        uploadAll(form.dataset.uploadUrl, null);
      }
    });

    function csrfToken() {
      return form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    }

    function createThenUpload() {
      var data = new FormData(form);
      data.delete("works");
      data.delete("zip");
      data.set("js_upload", "on");
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRFToken": csrfToken()}
      })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (!answer.ok) { showFormErrors(answer.errors || {}); return; }
          uploadAll(answer.upload_url, answer.detail_url);
        })
        .catch(function () { showFormErrors({"": [text.server]}); });
    }

    function showFormErrors(errors) {
      busy = false;
      submit.disabled = false;
      formErrors.textContent = "";
      Object.keys(errors).forEach(function (label) {
        errors[label].forEach(function (message) {
          var p = document.createElement("p");
          p.textContent = label ? label + ": " + message : message;
          formErrors.appendChild(p);
        });
      });
      formErrors.hidden = false;
      formErrors.scrollIntoView();
    }

    function uploadAll(url, detailUrl) {
      window.removalDeskUploading = true;
      var total = queue.length, done = 0, failed = 0, started = 0, memberErrors = 0;
      // One id for this upload action: the server records it as one "N works added" row.
      var batch = Date.now().toString(36) + Math.random().toString(36).slice(2);
      function report() {
        summary.textContent = format(text.summary, {done: done, total: total, failed: failed});
      }
      function finish() {
        window.removalDeskUploading = false;
        report();
        if (!failed && !memberErrors) {
          if (detailUrl) { window.location.assign(detailUrl); } else { window.location.reload(); }
          return;
        }
        var link;
        if (detailUrl) {
          link = document.createElement("a");
          link.href = detailUrl;
          link.textContent = text.continue;
        } else {
          link = document.createElement("button");
          link.type = "button";
          link.textContent = text.reload;
          link.addEventListener("click", function () { window.location.reload(); });
        }
        link.className = "button";
        next.textContent = text.tooMany + " ";
        next.appendChild(link);
        next.hidden = false;
      }
      function one() {
        if (started >= total) { return; }
        var job = queue[started++];
        job.state.textContent = text.uploading;
        var xhr = new XMLHttpRequest();
        var body = new FormData();
        body.append("work", job.file, job.file.name);
        body.append("batch", batch);
        xhr.open("POST", url);
        xhr.setRequestHeader("X-CSRFToken", csrfToken());
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) { job.bar.value = Math.round(100 * event.loaded / event.total); }
        });
        xhr.addEventListener("load", function () {
          var answer = null;
          try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
          if (answer && answer.ok) {
            job.bar.value = 100;
            job.item.classList.add("upload--ok");
            job.state.textContent = answer.added !== undefined ? text.zipAdded + " " + answer.added : text.added;
            done++;
          } else {
            failed++;
            fail(job, answer && answer.error ? answer.error : text.server);
          }
          if (answer && answer.errors && answer.errors.length) {
            var sub = document.createElement("ul");
            answer.errors.forEach(function (member) {
              var li = document.createElement("li");
              var name = document.createElement("span");
              name.className = "file-name";
              name.textContent = member.name;
              var error = document.createElement("span");
              error.className = "file-error";
              error.textContent = member.error;
              li.appendChild(name);
              li.appendChild(document.createTextNode(": "));
              li.appendChild(error);
              sub.appendChild(li);
            });
            job.item.appendChild(sub);
            memberErrors += answer.errors.length;
          }
          settle();
        });
        xhr.addEventListener("error", function () { failed++; fail(job, text.network); settle(); });
        xhr.send(body);
      }
      function fail(job, message) {
        job.item.classList.add("upload--error");
        job.state.textContent = "";
        var error = document.createElement("span");
        error.className = "file-error";
        error.textContent = message;
        job.state.appendChild(error);
      }
      var settled = 0;
      function settle() {
        settled++;
        report();
        if (settled === total) { finish(); } else { one(); }
      }
      report();
      for (var i = 0; i < Math.min(CONCURRENCY, total); i++) { one(); }
    }
  }

  document.querySelectorAll("form[data-uploader]").forEach(setup);
})();

/* Removal Desk: the one browser uploader (docs/uploads.md), on the portfolio's upload page, on a
   request's page (into that request) and on the new-request page (into the draft the form
   creates). Files, zips and folders (chosen or dropped) are announced (POST), sent in chunks
   (PATCH with Upload-Offset), three files at a time; a network error is retried with backoff
   after asking the server how many bytes it holds. Upload ids are kept in localStorage, so after
   a reload the same files chosen again go on from where they stopped. Once a file is in, the
   server's unpacking is polled and shown. No build step, no dependencies.

   On the new-request page (data-start="submit") chosen files wait: the form's submit creates
   the draft first (its JSON answer names the request), then they are sent into it. Without this
   script that page's plain file fields post everything at once, which works too. */
(function () {
  "use strict";
  if (!window.fetch || !window.XMLHttpRequest || !window.Blob || !Blob.prototype.slice || !document.querySelector) { return; }

  var PARALLEL = 3;
  var MAX_TRIES = 8;
  var POLL_MS = 1500;
  var STORE = "removalDesk.portfolioUploads";
  var SKIPPED = /(^|\/)\.|(^|\/)__MACOSX\//;

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (all, key) { return key in values ? values[key] : all; });
  }

  function humanSize(bytes) {
    if (!bytes) { return "0 kB"; }
    if (bytes >= 1073741824) { return (bytes / 1073741824).toFixed(2) + " GB"; }
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " kB";
  }

  function readStore() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "{}") || {}; } catch (e) { return {}; }
  }

  function writeStore(store) {
    try { window.localStorage.setItem(STORE, JSON.stringify(store)); } catch (e) { /* private mode: no resume */ }
  }

  function remember(fingerprint, value) {
    var store = readStore();
    if (value) { store[fingerprint] = value; } else { delete store[fingerprint]; }
    writeStore(store);
  }

  function setup(root) {
    var text = root.querySelector("[data-upload-text]").dataset;
    var zone = root.querySelector("[data-dropzone]");
    var status = root.querySelector("[data-upload-status]");
    var list = root.querySelector("[data-upload-list]");
    var summary = root.querySelector("[data-upload-summary]");
    var overall = root.querySelector("[data-upload-overall]");
    var next = root.querySelector("[data-upload-next]");
    var ticket = root.dataset.ticket || "";
    var ticketPage = root.dataset.ticketUrl || "";
    var createUrl = root.dataset.createUrl;
    var form = root.dataset.start === "submit" ? root.closest("form") : null;
    var csrf = document.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var jobs = [], waiting = [], running = 0, creating = false;

    root.querySelector("[data-uploader-needs-js]").hidden = true;
    zone.hidden = false;
    if (form) {
      form.querySelectorAll("[data-uploader-plain]").forEach(function (plain) { plain.hidden = true; });
      form.addEventListener("submit", submitted);
    }
    showUnfinished();

    function fingerprintOf(file) {
      return [ticket, file.webkitRelativePath || file.name, file.size, file.lastModified].join("|");
    }

    // Unfinished uploads of this page's target; on the new-request page, those of any request,
    // each with a link to the request's page, where choosing the file again resumes it.
    function showUnfinished() {
      var store = readStore(), box = root.querySelector("[data-upload-resume]");
      var items = root.querySelector("[data-upload-resume-list]");
      items.textContent = "";
      Object.keys(store).forEach(function (key) {
        var known = store[key];
        var elsewhere = form && !ticket && known.ticket && known.page;
        if (known.ticket !== ticket && !elsewhere) { return; }
        var li = document.createElement("li");
        li.className = "file-name";
        li.textContent = format(text.unfinished, {name: known.name, sent: humanSize(known.offset || 0), size: humanSize(known.size)});
        if (elsewhere) {
          var link = document.createElement("a");
          link.href = known.page;
          link.textContent = format(text.goOn, {ticket: known.ticket});
          li.appendChild(document.createTextNode(" "));
          li.appendChild(link);
        }
        items.appendChild(li);
      });
      box.hidden = !items.children.length;
    }

    function row(file) {
      var item = document.createElement("li");
      item.className = "upload";
      var name = document.createElement("span");
      name.className = "file-name";
      name.textContent = file.webkitRelativePath || file.name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", format(text.progress, {name: file.name}));
      var state = document.createElement("span");
      state.className = "upload-state";
      state.textContent = text.waiting;
      item.appendChild(name);
      item.appendChild(bar);
      item.appendChild(state);
      list.appendChild(item);
      return {item: item, bar: bar, state: state};
    }

    function add(files) {
      files.forEach(function (file) {
        var path = file.webkitRelativePath || file.name;
        if (SKIPPED.test(path)) { return; }
        var job = {file: file, fingerprint: fingerprintOf(file), sent: 0, tries: 0, settled: false, answer: null};
        job.ui = row(file);
        jobs.push(job);
        waiting.push(job);
      });
      status.hidden = !jobs.length;
      if (form && !ticket) {
        // Nothing can be sent before the draft exists: the form's submit creates it.
        waiting.forEach(function (job) { job.ui.state.textContent = text.ready; });
        report();
        return;
      }
      window.removalDeskUploading = true;
      report();
      pump();
    }

    function submitted(event) {
      if (!jobs.length && !ticket) { return; }  // no file chosen: the plain form says what is missing
      event.preventDefault();  // and once the draft exists, a second submit would make another one
      if (creating || ticket) { return; }
      creating = true;
      var button = form.querySelector("[data-upload-submit]");
      if (button) { button.disabled = true; }
      var data = new FormData(form);
      data.delete("works");
      data.delete("zip");
      data.set("js_upload", "on");
      call("POST", form.action, data).then(function (answer) {
        if (answer.data && answer.data.ok) {
          ticket = answer.data.reference;
          ticketPage = answer.data.detail_url;
          jobs.forEach(function (job) { job.fingerprint = fingerprintOf(job.file); });
          window.removalDeskUploading = true;
          report();
          pump();
        } else {
          formErrors(answer.data && answer.data.errors ? answer.data.errors : {"": [text.server]});
        }
      }, function () { formErrors({"": [text.server]}); });
    }

    function formErrors(errors) {
      creating = false;
      var button = form.querySelector("[data-upload-submit]");
      if (button) { button.disabled = false; }
      var box = document.querySelector("[data-form-errors]");
      box.textContent = "";
      Object.keys(errors).forEach(function (label) {
        errors[label].forEach(function (message) {
          var p = document.createElement("p");
          p.textContent = label ? label + ": " + message : message;
          box.appendChild(p);
        });
      });
      box.hidden = false;
      box.scrollIntoView();
    }

    function pump() {
      while (running < PARALLEL && waiting.length) {
        running++;
        start(waiting.shift());
      }
    }

    function release(job) {
      if (job.released) { return; }
      job.released = true;
      running--;
      pump();
    }

    function report() {
      var size = 0, sent = 0, done = 0, added = 0, duplicates = 0, failed = 0;
      jobs.forEach(function (job) {
        size += job.file.size;
        sent += job.sent;
        if (job.settled) { done++; }
        if (job.answer) {
          added += job.answer.added || 0;
          duplicates += job.answer.duplicates || 0;
          failed += job.answer.failed || 0;
        }
        if (job.refused) { failed++; }
      });
      overall.value = size ? Math.floor(100 * sent / size) : 0;
      if (form && !ticket) {  // nothing is sent before the request exists: say what is chosen
        summary.textContent = format(text.chosen, {total: jobs.length, size: humanSize(size)});
        return;
      }
      summary.textContent = format(text.summary, {
        done: done, total: jobs.length, sent: humanSize(sent), size: humanSize(size),
        added: added, duplicates: duplicates, failed: failed
      });
      if (jobs.length && done === jobs.length) { finish(failed + duplicates); }
    }

    function finish(problems) {
      window.removalDeskUploading = false;
      showUnfinished();
      if (!ticket) { return; }
      if (form) {  // the new request: on to its page, at once when every file went in
        if (!problems) { window.location.assign(ticketPage); return; }
        if (next.hidden) {
          var link = document.createElement("a");
          link.href = ticketPage;
          link.className = "button";
          link.textContent = text.continue;
          next.textContent = text.tooMany + " ";
          next.appendChild(link);
          next.hidden = false;
        }
        return;
      }
      if (!problems) { window.location.reload(); return; }
      if (next.hidden) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button";
        button.textContent = text.reload;
        button.addEventListener("click", function () { window.location.reload(); });
        next.textContent = "";
        next.appendChild(button);
        next.hidden = false;
      }
    }

    function call(method, url, body, headers) {  // -> {status, data}; data is null if not JSON
      return fetch(url, {
        method: method, body: body, credentials: "same-origin",
        headers: Object.assign({"Accept": "application/json", "X-CSRFToken": csrf}, headers || {})
      }).then(function (response) {
        return response.json().then(
          function (data) { return {status: response.status, data: data}; },
          function () { return {status: response.status, data: null}; }
        );
      });
    }

    function start(job) {
      var known = readStore()[job.fingerprint];
      if (known) {
        call("GET", known.url).then(function (answer) {
          if (answer.status === 200 && answer.data) {
            job.ui.state.textContent = format(text.resuming, {sent: humanSize(answer.data.offset), size: humanSize(job.file.size)});
            accept(job, answer.data);
          } else if (answer.status === 404 || answer.status === 403) {
            remember(job.fingerprint, null);
            create(job);
          } else { retry(job, function () { start(job); }); }
        }, function () { retry(job, function () { start(job); }); });
      } else {
        create(job);
      }
    }

    function create(job) {
      var body = {name: job.file.name, size: job.file.size};
      if (ticket) { body.ticket = ticket; }
      call("POST", createUrl, JSON.stringify(body), {"Content-Type": "application/json"}).then(function (answer) {
        if (answer.status === 201) {
          accept(job, answer.data);
        } else if (answer.status >= 400 && answer.status < 500 && answer.data) {
          refuse(job, answer.data.error);
        } else { retry(job, function () { create(job); }); }
      }, function () { retry(job, function () { create(job); }); });
    }

    function accept(job, upload) {
      job.upload = upload;
      job.tries = 0;
      job.sent = upload.offset;
      job.ui.bar.value = Math.floor(100 * upload.offset / Math.max(1, upload.size));
      if (upload.state === "receiving") {
        remember(job.fingerprint, {url: upload.url, name: upload.name, size: upload.size, offset: upload.offset, ticket: ticket, page: ticketPage});
        send(job);
      } else {
        received(job, upload);
      }
    }

    function send(job) {
      var upload = job.upload, offset = job.sent;
      var end = Math.min(offset + upload.chunk_size, job.file.size);
      var xhr = new XMLHttpRequest();
      xhr.open("PATCH", upload.url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
      xhr.setRequestHeader("Upload-Offset", String(offset));
      xhr.upload.addEventListener("progress", function (event) {
        var now = offset + (event.lengthComputable ? event.loaded : 0);
        job.ui.bar.value = Math.floor(100 * now / job.file.size);
        job.ui.state.textContent = format(text.sending, {sent: humanSize(now), size: humanSize(job.file.size)});
      });
      xhr.addEventListener("load", function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status === 200 && data) {
          job.tries = 0;
          job.sent = data.offset;
          remember(job.fingerprint, {url: upload.url, name: upload.name, size: upload.size, offset: data.offset, ticket: ticket, page: ticketPage});
          report();
          if (data.state === "receiving") { send(job); } else { received(job, data); }
        } else if (xhr.status === 409 && data && typeof data.offset === "number") {
          job.sent = data.offset;  // the server holds another count of bytes: go on from there
          if (data.code === "not_receiving") { received(job, data); } else { send(job); }
        } else if (xhr.status >= 400 && xhr.status < 500 && data) {
          remember(job.fingerprint, null);
          refuse(job, data.error);
        } else {
          retry(job, function () { start(job); });
        }
      });
      xhr.addEventListener("error", function () { retry(job, function () { start(job); }); });
      xhr.addEventListener("abort", function () { retry(job, function () { start(job); }); });
      xhr.send(job.file.slice(offset, end));
    }

    function retry(job, again) {
      job.tries++;
      if (job.tries > MAX_TRIES) {
        fail(job, text.network);
        settle(job);
        return;
      }
      var seconds = Math.min(30, Math.pow(2, job.tries - 1));
      job.ui.state.textContent = format(text.retrying, {seconds: seconds});
      window.setTimeout(again, seconds * 1000 * (0.75 + Math.random() / 2));
    }

    function refuse(job, message) {
      job.refused = true;
      fail(job, message || text.server);
      settle(job);
    }

    function fail(job, message) {
      job.ui.item.classList.add("upload--error");
      job.ui.state.textContent = "";
      var error = document.createElement("span");
      error.className = "file-error";
      error.textContent = message;
      job.ui.state.appendChild(error);
    }

    function settle(job) {
      if (job.settled) { return; }
      job.settled = true;
      report();
      release(job);
    }

    function received(job, upload) {
      job.sent = job.file.size;
      job.ui.bar.value = 100;
      remember(job.fingerprint, null);
      release(job);  // the bytes are in: the next file may start while the server unpacks this one
      watch(job, upload);
    }

    function watch(job, upload) {
      job.answer = upload;
      if (upload.state === "failed" || upload.state === "expired") {
        job.answer = null;
        job.refused = true;
        fail(job, upload.error || text.server);
        settle(job);
        return;
      }
      if (upload.state === "done") {
        job.ui.item.classList.add("upload--ok");
        job.ui.state.textContent = format(text.done, {added: upload.added, duplicates: upload.duplicates, failed: upload.failed});
        details(job, upload);
        settle(job);
        return;
      }
      job.ui.state.textContent = upload.state === "processing"
        ? format(text.processing, {processed: upload.processed, members: upload.members || "…"})
        : text.queued;
      report();
      window.setTimeout(function () {
        call("GET", job.upload.url).then(function (answer) {
          watch(job, answer.status === 200 && answer.data ? answer.data : upload);
        }, function () { watch(job, upload); });
      }, POLL_MS);
    }

    function details(job, upload) {
      if (!upload.reports || !upload.reports.length) { return; }
      var sub = document.createElement("ul");
      upload.reports.slice(0, 50).forEach(function (report) {
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.className = "file-name";
        name.textContent = report.name;
        var message = document.createElement("span");
        message.className = report.kind === "duplicate" ? "hint" : "file-error";
        message.textContent = report.message;
        li.appendChild(name);
        li.appendChild(document.createTextNode(": "));
        li.appendChild(message);
        sub.appendChild(li);
      });
      if (upload.reports_total > 50) {
        var more = document.createElement("li");
        more.textContent = format(text.more, {count: upload.reports_total - 50});
        sub.appendChild(more);
      }
      job.ui.item.appendChild(sub);
    }

    // --- choosing and dropping ------------------------------------------------

    ["[data-files]", "[data-folder]"].forEach(function (selector) {
      var input = root.querySelector(selector);
      input.addEventListener("change", function () {
        add(Array.prototype.slice.call(input.files));
        input.value = "";
      });
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
      var transfer = event.dataTransfer;
      if (!transfer) { return; }
      var entries = [];
      if (transfer.items && transfer.items.length && transfer.items[0].webkitGetAsEntry) {
        for (var i = 0; i < transfer.items.length; i++) {
          var entry = transfer.items[i].webkitGetAsEntry();
          if (entry) { entries.push(entry); }
        }
      }
      if (!entries.length) { add(Array.prototype.slice.call(transfer.files)); return; }
      walk(entries, "", function (files) { add(files); });
    });

    // A dropped folder: every file under it, its path kept for the list (readEntries answers in batches).
    function walk(entries, prefix, done) {
      var files = [], pending = entries.length;
      if (!pending) { done(files); return; }
      function one() { if (--pending === 0) { done(files); } }
      entries.forEach(function (entry) {
        if (entry.isFile) {
          entry.file(function (file) {
            if (prefix) {
              try { Object.defineProperty(file, "webkitRelativePath", {value: prefix + file.name}); } catch (e) { /* read-only */ }
            }
            files.push(file);
            one();
          }, one);
        } else if (entry.isDirectory) {
          var reader = entry.createReader(), children = [];
          var read = function () {
            reader.readEntries(function (batch) {
              if (batch.length) { children = children.concat(Array.prototype.slice.call(batch)); read(); return; }
              walk(children, prefix + entry.name + "/", function (found) { files = files.concat(found); one(); });
            }, one);
          };
          read();
        } else { one(); }
      });
    }
  }

  document.querySelectorAll("[data-uploader]").forEach(setup);
})();

/* Removal Desk: while works are being checked, poll the request's status and reload once none is
   pending (without JavaScript a <noscript> refresh does the same). */
(function () {
  "use strict";
  var box = document.getElementById("hash-progress");
  if (!box || !window.fetch) { return; }
  var delay = 1000 * (parseInt(box.dataset.refreshSeconds, 10) || 3);
  function poll() {
    if (window.removalDeskUploading) { window.setTimeout(poll, delay); return; }
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && !data.works.some(function (w) { return w.hash_state === "pending"; })) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
})();

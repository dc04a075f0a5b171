/* The demo news site's own script. A real site's page gets its signed-in reader's token from its
   own backend; the embed calls this function (data-reader-token-callback) when it shows the form
   and again when the token has expired. */
(function () {
  "use strict";
  var url = document.currentScript.dataset.tokenUrl;
  window.demoNewsReaderToken = function () {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) { return data && data.reader_token; });
  };
})();

// Fills the page's <output id="info"> from the JSON endpoint.
(function () {
  var output = document.getElementById("info");
  if (!output) {
    return;
  }
  fetch("/api/info")
    .then(function (response) { return response.json(); })
    .then(function (info) {
      output.textContent = info.greeting + " (pid " + info.pid + ", Python " + info.python + ")";
    })
    .catch(function (error) { output.textContent = "unavailable: " + error; });
})();

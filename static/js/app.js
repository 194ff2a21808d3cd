// Showroom ERP behaviour: no inline script anywhere (the CSP forbids it), everything here.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // CSRF on every state-changing htmx request, from the token in the page.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // htmx does not swap error responses: show their message instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var toast = document.getElementById("toast");
    if (!toast) { return; }
    var holder = document.createElement("div");
    holder.innerHTML = event.detail.xhr.responseText || "";
    var text = holder.textContent.trim() || ("The server answered " + event.detail.xhr.status + ".");
    toast.textContent = text.length > 300 ? text.slice(0, 300) + "…" : text;
    toast.hidden = false;
  });
  document.addEventListener("htmx:sendError", function () {
    var toast = document.getElementById("toast");
    if (toast) { toast.textContent = "The server cannot be reached. Check the network and try again."; toast.hidden = false; }
  });

  // One submission per click: the button is disabled while the request is in flight.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var confirmText = form.getAttribute("data-confirm");
    if (confirmText && !form.hasAttribute("hx-post") && !window.confirm(confirmText)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.submitting === "1" && !form.hasAttribute("hx-post")) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    form.querySelectorAll('button[type="submit"]').forEach(function (button) {
      button.setAttribute("aria-busy", "true");
      // Disabled only once the browser has collected the form's values: a disabled button drops its
      // own name=value, and a form with several submit buttons needs to know which one was pressed.
      if (!form.hasAttribute("hx-post")) { setTimeout(function () { button.disabled = true; }, 0); }
    });
  }, true);
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    if (form) {
      form.dataset.submitting = "";
      form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.removeAttribute("aria-busy"); b.disabled = false; });
    }
  });
  // Coming back with the back button must not leave buttons disabled.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.dataset.submitting = "";
      form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.removeAttribute("aria-busy"); b.disabled = false; });
    });
  });

  // ---- Procurement: receiving vehicles one at a time with a barcode scanner -----------------
  // A scanner types the code and presses Enter. In the "one vehicle at a time" boxes Enter moves
  // to the next box instead of submitting; in the last box it adds the vehicle to the list.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.closest) { return; }
    var group = event.target.closest("[data-scan-row]");
    if (!group || event.target.tagName !== "INPUT") { return; }
    event.preventDefault();
    var boxes = Array.prototype.slice.call(group.querySelectorAll("input:not([type=hidden]), select"));
    var next = boxes[boxes.indexOf(event.target) + 1];
    if (next) { next.focus(); } else { group.querySelector("[data-scan-add]").click(); }
  });

  // Login: tap your name, then the PIN keypad (the keyboard works too).
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-keypad-form]");
    if (!form) { return; }
    var code = form.querySelector('input[name="staff_code"]');
    // On a touch screen, focusing the PIN box would pop up the system keyboard over the keypad.
    var finePointer = window.matchMedia && window.matchMedia("(pointer: fine)").matches;
    function focusPin() { if (finePointer) { pin.focus(); } }
    var pin = form.querySelector('input[name="pin"]');
    document.querySelectorAll("[data-staff-code]").forEach(function (tile) {
      tile.addEventListener("click", function () {
        document.querySelectorAll("[data-staff-code]").forEach(function (t) { t.classList.remove("selected"); });
        tile.classList.add("selected");
        code.value = tile.getAttribute("data-staff-code");
        pin.value = "";
        focusPin();
      });
    });
    form.querySelectorAll("[data-key]").forEach(function (key) {
      key.addEventListener("click", function () {
        var k = key.getAttribute("data-key");
        if (k === "clear") { pin.value = ""; }
        else if (k === "back") { pin.value = pin.value.slice(0, -1); }
        else if (pin.value.length < 6) { pin.value += k; }
        focusPin();
      });
    });
    if (code.value) { focusPin(); } else if (finePointer) { code.focus(); }
  });
})();

// ---- Inventory: a Print button (label sheets) opens the browser's print dialog; no inline script. ----
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { event.preventDefault(); window.print(); }
  });
})();

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

// ---- Module navigation (templates/base.html): <details> menus, one open at a time. ----
(function () {
  "use strict";
  function topbar() { return document.querySelector(".topbar"); }
  function menus(bar) { return Array.prototype.slice.call(bar.querySelectorAll(".modules details")); }
  // The tablet layout: one "Menu" button; shown by the stylesheet on narrow screens or when crowded.
  function oneButton(bar) {
    var menu = bar.querySelector(".nav-menu");
    return !!menu && window.getComputedStyle(menu).display !== "none";
  }
  function closeAll(bar, except) {
    menus(bar).forEach(function (d) { if (d !== except && !d.contains(except)) { d.open = false; } });
  }

  // 'toggle' does not bubble: listen in the capture phase.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    var bar = details.closest && details.closest(".topbar");
    if (!bar || !details.matches(".modules details")) { return; }
    if (details.classList.contains("nav-menu")) {
      // The "Menu" button lists every section, the page's own open (else the first): one at a time.
      var sections = Array.prototype.slice.call(bar.querySelectorAll(".nav-section"));
      var here = bar.querySelector(".nav-section > summary[aria-current]");
      var first = here ? here.parentElement : sections[0];
      sections.forEach(function (s) { s.open = details.open && s === first; });
    } else if (details.open && !oneButton(bar)) {
      closeAll(bar, details);  // a drop-down at a time on a wide screen
      // A wide drop-down (a section with groups) opens leftwards when it would leave the window.
      var links = details.querySelector(".nav-links");
      if (links) {
        links.classList.remove("to-left");
        if (links.getBoundingClientRect().right > document.documentElement.clientWidth) { links.classList.add("to-left"); }
      }
    } else if (details.open) {
      // In the tablet's list, opening a section closes the one open before.
      bar.querySelectorAll(".nav-section").forEach(function (s) { if (s !== details) { s.open = false; } });
    }
  }, true);

  // A tap or click elsewhere, or Escape, closes what is open.
  document.addEventListener("click", function (event) {
    var bar = topbar();
    if (bar && !(event.target.closest && event.target.closest(".modules"))) { closeAll(bar, null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var bar = topbar();
    var open = bar && bar.querySelector(".modules details[open]");
    if (!open) { return; }
    // Back to the button that opened it: "Menu" on a tablet, else the section's own.
    var button = oneButton(bar) ? bar.querySelector(".nav-menu > summary") : open.querySelector("summary");
    closeAll(bar, null);
    button.focus();
  });

  // On a wide screen the sections sit in one row; should they ever outgrow it (more modules, a long
  // branch name), the bar falls back to the one "Menu" button instead of wrapping.
  function fit() {
    var bar = topbar();
    if (!bar) { return; }
    bar.classList.remove("crowded");
    if (oneButton(bar)) { return; }
    // Too wide: the bar overflows, or the branch name is squeezed below its own width.
    var brand = bar.querySelector(".brand");
    var name = brand.querySelector("span");
    var squeezed = name && name.scrollWidth > name.clientWidth + 1 &&
      brand.getBoundingClientRect().width < parseFloat(window.getComputedStyle(brand).maxWidth) - 1;
    if (squeezed || bar.scrollWidth > bar.clientWidth + 1) {
      closeAll(bar, null);
      bar.classList.add("crowded");
    }
  }
  var wasOneButton = null;
  function onResize() {
    var bar = topbar();
    if (!bar) { return; }
    fit();
    var now = oneButton(bar);
    if (wasOneButton !== null && now !== wasOneButton) { closeAll(bar, null); }
    wasOneButton = now;
  }
  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; onResize(); });
  });
  onResize();  // deferred script: the bar is parsed already
  document.addEventListener("htmx:afterSettle", onResize);
})();

// ---- Tables wider than their box (.table-scroll): the stylesheet shows a hint and a shadow edge. ----
(function () {
  "use strict";
  function mark(box) {
    var hidden = box.scrollWidth - box.clientWidth;
    box.classList.toggle("scrolls", hidden > 1);
    box.classList.toggle("more-right", hidden - box.scrollLeft > 1);
  }
  var watcher = window.ResizeObserver ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { mark(entry.target); });
  }) : null;
  function watchAll() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.dataset.watched) { mark(box); return; }
      box.dataset.watched = "1";
      mark(box);
      if (watcher) { watcher.observe(box); }
    });
  }
  // 'scroll' does not bubble either.
  document.addEventListener("scroll", function (event) {
    var box = event.target;
    if (box.classList && box.classList.contains("table-scroll")) { mark(box); }
  }, true);
  window.addEventListener("resize", watchAll);
  document.addEventListener("htmx:afterSettle", watchAll);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watchAll); } else { watchAll(); }
})();

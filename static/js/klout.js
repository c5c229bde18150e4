// Small progressive enhancements. Every feature here also works without JavaScript.
document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const toggle = target.closest("[data-toggle]");
  if (toggle) {
    const panel = document.getElementById(toggle.getAttribute("data-toggle"));
    if (panel) {
      const hidden = panel.hasAttribute("hidden");
      panel.toggleAttribute("hidden", !hidden);
      toggle.setAttribute("aria-expanded", String(hidden));
      event.preventDefault();
    }
  }
});

// Panels marked data-collapse stay open without JavaScript and start collapsed with it.
document.addEventListener("DOMContentLoaded", () => {
  for (const panel of document.querySelectorAll("[data-collapse]")) {
    panel.setAttribute("hidden", "");
    for (const toggle of document.querySelectorAll(`[data-toggle="${panel.id}"]`)) {
      toggle.setAttribute("aria-expanded", "false");
    }
  }
});

// The browser's time zone, as a default for hours shown to the person (their setting wins).
try {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // IANA names ("Europe/Paris", "America/Port-au-Prince") need no escaping in a cookie.
  if (zone && /^[A-Za-z0-9_+\-\/]+$/.test(zone) && !document.cookie.split("; ").includes(`tz=${zone}`)) {
    document.cookie = `tz=${zone}; path=/; max-age=31536000; SameSite=Lax`;
  }
} catch (error) {
  // No Intl time zone: hours stay in UTC.
}

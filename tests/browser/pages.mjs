// Every main portal page in headless Chromium at a desktop (1366 px) and a
// phone (390 px) width: no horizontal overflow of the page (wide tables
// scroll inside themselves), a navigation landmark, a skip link to the
// main content, headings that start at h1, the demo banner (error pages
// too), and WCAG AA contrast (4.5:1) for every status badge and muted text
// actually shown; and the axe-core accessibility engine (WCAG 2.0-2.2 A
// and AA rules) with no serious or critical violation.
// Usage: node pages.mjs BASE_URL   (CHROMIUM overrides the browser's path)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const base = process.argv[2];
if (!base) {
  console.error("usage: node pages.mjs BASE_URL");
  process.exit(2);
}
const pages = [
  "/", "/projects", "/projects/orders", "/teams", "/teams/payments", "/deployments", "/incidents",
  "/runs", "/notifications", "/dora", "/dora?team=payments&since=90d", "/projects/orders/neighbourhood", "/ci", "/ci?project=orders", "/schedules", "/inbox", "/imports",
  "/vulnerabilities", "/vulnerabilities?severity=critical", "/advisories/CVE-2025-29923", "/advisories/GHSA-77rv-6vfw-x4gc",
  "/admin/users", "/chat", "/link", "/login", "/packages?name=react", "/no-such-page",
  "/projects/nowhere", "/ci?project=nowhere", "/runs/not-a-run", "/search?q=pay", "/api", "/audit", "/audit?person=erin",
];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const problems = [];
try {
  for (const width of [1366, 390]) {
    // The portal's CSP forbids inline scripts; only the test's axe-core is let in.
    const page = await browser.newPage({ viewport: { width, height: 900 }, bypassCSP: true });
    for (const path of pages) {
      await page.goto(base + path);
      const found = await page.evaluate(() => {
        const out = [];
        const doc = document.documentElement;
        if (doc.scrollWidth > window.innerWidth + 1) {
          // Name the widest element that sticks out, to say what to fix.
          let widest = null;
          for (const el of document.querySelectorAll("body *")) {
            const r = el.getBoundingClientRect();
            if (r.right > window.innerWidth + 1 && (!widest || r.width > widest.getBoundingClientRect().width)) {
              if (!el.closest(".scroll")) widest = el;
            }
          }
          out.push(`overflows: ${doc.scrollWidth}px (${widest ? widest.tagName.toLowerCase() + "." + widest.className : "?"})`);
        }
        if (!document.querySelector("nav")) out.push("no nav landmark");
        const skip = document.querySelector("a.skip");
        if (!skip || !document.querySelector(skip.getAttribute("href"))) out.push("no skip link to the main content");
        // The demo says so on every page, error pages included.
        if (!document.querySelector("#mode-banner")) out.push("no demo banner");
        const first = document.querySelector("main h1, main h2, main h3");
        if (!first || first.tagName !== "H1") out.push("headings do not start at h1");
        // Contrast of badges and muted text, from their computed colours.
        const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
        const lum = ([r, g, b]) => {
          const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
          return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        };
        const background = (el) => {
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
          }
          return [255, 255, 255];
        };
        for (const el of document.querySelectorAll(".badge, .muted, th, footer, .banner")) {
          if (!el.textContent.trim() || el.getClientRects().length === 0) continue;
          const fg = lum(rgb(getComputedStyle(el).color).slice(0, 3));
          const bg = lum(background(el));
          const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
          if (ratio < 4.5) {
            out.push(`contrast ${ratio.toFixed(2)}:1 for "${el.textContent.trim().slice(0, 30)}" (.${el.className})`);
          }
        }
        return [...new Set(out)];
      });
      // axe-core on the page as shown: serious and critical violations fail.
      await page.addScriptTag({ content: axeSource });
      const axe = await page.evaluate(async () => {
        const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
        const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
        return r.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")})`);
      });
      found.push(...axe);
      if (path === "/login" && (await page.locator("button", { hasText: "Sign out" }).count()) > 0) {
        found.push("Sign out is offered to someone not signed in");
      }
      for (const f of found) problems.push(`${width}px ${path}: ${f}`);
    }
    await page.close();
  }
  // A select that submits on change does nothing on an arrow key: the
  // keyboard moves through the options, Enter chooses.
  const page = await browser.newPage();
  await page.goto(base + "/runs");
  const select = page.locator('select[name="status"]');
  await select.focus();
  await page.keyboard.press("ArrowDown");
  await page.waitForTimeout(400);
  if (page.url() !== base + "/runs") problems.push(`an arrow key on /runs' status select navigated to ${page.url()}`);
  await Promise.all([page.waitForURL(/status=/), page.keyboard.press("Enter")]);
  if (!/status=[a-z]+/.test(page.url())) problems.push(`Enter on /runs' status select did not filter: ${page.url()}`);
  // The header's search, as one types, by keyboard: the results come under
  // the box, ArrowDown reaches the first, Enter opens it.
  await page.goto(base + "/");
  await page.locator("#search input[name=q]").pressSequentially("payments", { delay: 30 });
  await page.locator("#search-results .search-hit").first().waitFor({ timeout: 5000 });
  await page.keyboard.press("ArrowDown");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute("href"));
  if (!focused || !focused.startsWith("/")) problems.push(`ArrowDown in the search box focused ${focused}, not a result`);
  await Promise.all([page.waitForURL((u) => u.pathname === focused), page.keyboard.press("Enter")]);
  await page.close();
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`pages ok (${pages.length} pages at 1366 and 390 px)`);

// Single sign-on in headless Chromium against a real OpenID Connect
// provider: a stranger is sent to sign in, signs in at the provider as
// SUB, comes back signed in with the role the provider's groups give, signs
// out, and is a stranger again. Errors on Switchboard's own pages (a
// Content-Security-Policy violation among them) fail it.
// Usage: node sso.mjs BASE_URL SUB EXPECTED_BANNER   (CHROMIUM overrides the browser's path)
import { chromium } from "playwright-core";

const [base, sub, expected] = process.argv.slice(2);
if (!base || !sub || !expected) {
  console.error("usage: node sso.mjs BASE_URL SUB EXPECTED_BANNER");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  const ours = () => page.url().startsWith(base);
  page.on("pageerror", (e) => ours() && errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && ours() && errors.push(m.text()));

  await page.goto(base + "/runs");
  if (!new URL(page.url()).pathname.startsWith("/login")) throw new Error("a stranger was not sent to sign in: " + page.url());
  await page.locator("#sso").click();
  // The provider's page: who signs in.
  await page.locator("input[name=sub]").fill(sub);
  await page.locator("button[type=submit]", { hasText: "Authorize" }).click();
  try {
    await page.waitForURL(base + "/runs", { timeout: 15000 });
  } catch (e) {
    const body = (await page.content().catch(() => "")).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").slice(0, 800);
    throw new Error(`not back at /runs after signing in; at ${page.url()}: ${body}`);
  }
  const banner = await page.locator("#mode-banner").innerText();
  if (!banner.includes(expected)) throw new Error(`banner ${JSON.stringify(banner)} lacks ${JSON.stringify(expected)}`);

  await page.goto(base + "/login");
  await page.locator("form[action='/logout'] button").click();
  await page.goto(base + "/runs");
  if (!new URL(page.url()).pathname.startsWith("/login")) throw new Error("still signed in after signing out: " + page.url());

  if (errors.length) throw new Error("errors on Switchboard's pages: " + errors.join("; "));
  console.log("sso ok");
} finally {
  await browser.close();
}

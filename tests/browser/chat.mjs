// Drives the portal's web chat in headless Chromium: a question answered
// through the streamed reply, an automation's run card, a click on a
// button that arrived inside a streamed reply, and the demo's logs: "check
// the logs for refunds" and its investigation with the Roll back button.
// Usage: node chat.mjs BASE_URL   (CHROMIUM overrides the browser's path)
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base) {
  console.error("usage: node chat.mjs BASE_URL");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(base + "/chat");
  const input = page.locator("#ask input[name=text]");
  const ask = async (text) => {
    await input.fill(text);
    await input.press("Enter");
  };

  await ask("who owns payments-api?");
  await page.locator(".reply", { hasText: "payments-api is owned by Payments" }).waitFor({ timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("[data-stream], .streaming").length === 0);
  if ((await input.inputValue()) !== "") throw new Error("the input was not cleared");

  await ask("deploy orders to staging");
  const card = page.locator(".reply", { hasText: "(what development runs) to staging" }).last();
  await card.waitFor({ timeout: 15000 });
  // The demo admin asked, so its own approval is refused: the answer replaces the card.
  await card.locator("button", { hasText: "Approve" }).click();
  await page.locator(".reply", { hasText: "Not allowed" }).waitFor({ timeout: 15000 });

  // The demo's logs: the question of the issue, then its investigation with the rollback.
  await ask("check the logs for refunds, spot any issues?");
  const logs = page.locator(".reply", { hasText: "1 of them new" }).last();
  await logs.waitFor({ timeout: 15000 });
  if (!(await logs.textContent()).includes("card-vault")) throw new Error("the new signature is missing");
  await ask("investigate refunds");
  const report = page.locator(".reply", { hasText: "Most likely: the deployment of" }).last();
  await report.waitFor({ timeout: 15000 });
  await report.locator("button", { hasText: "Roll back production" }).click();
  await page.locator(".reply", { hasText: "Roll back refunds in production to" }).waitFor({ timeout: 15000 });

  if (errors.length) throw new Error("errors on the page: " + errors.join("; "));
  console.log("web chat ok");
} finally {
  await browser.close();
}

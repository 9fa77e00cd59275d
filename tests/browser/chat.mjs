// Drives the portal's web chat in headless Chromium: a question answered
// through the streamed reply, an automation's run card, a click on a
// button that arrived inside a streamed reply, the demo's logs: "check
// the logs for refunds" and its investigation with the Roll back button, and
// the demo's loop: ask to deploy → another person approves → the run's
// thread follows it on the simulated GitHub → the deployments page shows it
// → the team's notification.
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

  // Speaking as someone else keeps every earlier turn as it was: who asked
  // it, its tables and its buttons, re-rendered from the stored reply.
  await page.locator("select[name=user]").selectOption("bob");
  await page.waitForURL(/\/chat$/);
  await page.locator(".turn").first().waitFor({ timeout: 15000 });
  const first = page.locator(".turn", { hasText: "who owns payments-api?" }).first();
  if ((await first.locator(".who").textContent()).trim() !== "demo-admin")
    throw new Error("an earlier turn was relabelled: " + (await first.locator(".who").textContent()));
  const logsTurn = page.locator(".turn", { hasText: "check the logs for refunds" }).first();
  if ((await logsTurn.locator("table").count()) === 0) throw new Error("an earlier answer lost its table");
  const deployTurn = page.locator(".turn", { hasText: "deploy orders to staging" }).first();
  // Bob (an approver) approves the demo admin's run from the earlier card.
  await deployTurn.locator("button", { hasText: "Approve" }).click();
  await page.locator(".reply", { hasText: "approved by bob" }).last().waitFor({ timeout: 15000 });
  // Shown again, the decided run's card no longer offers its buttons.
  await page.reload();
  const again = page.locator(".turn", { hasText: "deploy orders to staging" }).first();
  await again.locator(".reply", { hasText: "This run is" }).waitFor({ timeout: 15000 });
  if ((await again.locator("button", { hasText: "Approve" }).count()) !== 0)
    throw new Error("a decided run still offers Approve");
  // The run happens on the simulated GitHub, and the thread under the request
  // follows it without a reload: approval, steps, outcome, the deployment.
  const thread = again.locator(".run-thread");
  await thread.locator("li", { hasText: "Approved by bob." }).waitFor({ timeout: 15000 });
  const deployed = thread.locator("li", { hasText: /^Deployment of .+ to staging: succeeded\.$/ });
  await deployed.waitFor({ timeout: 60000 });
  if ((await thread.locator("li", { hasText: "Succeeded." }).count()) === 0) throw new Error("no outcome in the thread");
  const version = (await deployed.textContent()).match(/^Deployment of (.+) to staging/)[1];
  // The deployments page shows it, and the team was told.
  await page.goto(base + "/deployments");
  await page.locator("#recent td", { hasText: version }).first().waitFor({ timeout: 15000 });
  await page.goto(base + "/notifications");
  await page.locator("li", { hasText: "Deployed " + version + " to staging" }).first().waitFor({ timeout: 15000 });
  await page.goto(base + "/chat");
  // Bob's own question is labelled his; the admin's stay the admin's.
  await ask("who owns orders?");
  await page.locator(".reply", { hasText: "orders is owned by" }).last().waitFor({ timeout: 15000 });
  await page.reload();
  await page.locator(".turn").first().waitFor({ timeout: 15000 });
  const asked = page.locator(".turn .who");
  const speakers = new Set(await asked.allTextContents());
  if (!speakers.has("demo-admin") || !speakers.has("bob")) throw new Error("speakers: " + [...speakers].join(", "));

  if (errors.length) throw new Error("errors on the page: " + errors.join("; "));
  console.log("web chat ok");
} finally {
  await browser.close();
}

// The live page in a real browser, kept open while the app leaks more: it updates by
// itself, the filter narrows the table, a group expands to its tasks, and the page throws
// nothing. Usage: node live.mjs APP_ADDR DEBUG_ADDR (host:port each).
import { chromium } from "playwright-core";

const [app, debug] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const fail = async (why) => {
  console.error("FAIL: " + why);
  console.error((await page.content()).slice(0, 4000));
  await browser.close();
  process.exit(1);
};
const page = await browser.newPage();
const errors = [];
page.on("pageerror", (error) => errors.push(String(error)));

// The count cell of the group whose reason cell starts with `reason`.
const count = (reason) => page.evaluate((reason) => {
  const row = [...document.querySelectorAll("tr.group")]
    .find((tr) => tr.children[1].firstChild.textContent === reason);
  return row ? row.children[0].textContent : null;
}, reason);
const waitForCount = async (reason, expected) => {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if ((await count(reason)) === expected) return;
    await page.waitForTimeout(200);
  }
  await fail(`the ${reason} group never showed ${expected} (last: ${await count(reason)})`);
};

await page.goto(`http://${debug}/debug/pprof/live`);
await waitForCount("chan send", "3");
// More leaks while the page stays open: it picks them up on its own.
for (let i = 0; i < 2; i++) await fetch(`http://${app}/leak/channel`);
await waitForCount("chan send", "5");

await page.fill("#filter", "select");
const shown = await page.$$eval("tr.group", (rows) => rows.map((tr) => tr.children[1].firstChild.textContent));
if (JSON.stringify(shown) !== JSON.stringify(["select"])) await fail("filter: " + JSON.stringify(shown));
await page.fill("#filter", "");

// A group expands to its tasks.
await page.click("tr.group >> text=chan send");
await page.waitForSelector("tr.tasks code", { timeout: 20000 });
const tasks = await page.$$eval("tr.tasks code", (cells) => cells.map((c) => c.textContent));
if (tasks.length !== 5 || !tasks.every((t) => t.includes("[chan send, "))) {
  await fail("expanded group: " + JSON.stringify(tasks));
}

// Paused, it stops asking.
await page.click("#pause");
const before = await page.textContent("#updated");
await page.waitForTimeout(4500);
if ((await page.textContent("#updated")) !== before) await fail("still refreshing while paused");

if (errors.length) await fail("page errors: " + errors.join("; "));
await browser.close();
console.log("live page in the browser: ok");

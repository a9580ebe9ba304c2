// Drives Microsoft 365 Agents Playground (Teams' emulator) in headless chromium as a person
// would: reads the chat, types messages, fills card fields and presses card buttons.
//
//   node playground.mjs PLAN.json
//
// PLAN.json: {"url": "http://localhost:PORT/", "artifacts": DIR, "walks": [{"name": ...,
// "steps": [STEP, ...]}, ...]}. A STEP does at most one thing, then waits for the bot:
//   {"say": "help"}                         type a message and press Enter
//   {"press": "Next", "fill": {LABEL: V}}   in the newest card with that button, fill fields by
//                                           their label (text, date, a <select>'s option label,
//                                           or true/false to tick a checkbox or radio), then
//                                           press the button
//   {"expect": ["text", ...]}               (with or without an action) wait until the bot's
//                                           new messages contain every text
//   {"run": {"argv": [...], "env": {...}, "cwd": DIR}}
//                                           run a command (e.g. `edi-bot bulletin publish`),
//                                           then wait for what it makes the bot send (with
//                                           no "expect", wait for nothing)
//   {"capture": {"name": "regex"}}          remember a regex's first group from the replies;
//                                           "{name}" in later steps' text is replaced by it
// A screenshot is saved after every step as ARTIFACTS/<walk>-<step>.png. A failed walk is
// recorded, typed "cancel" to, and the next walk goes on. Prints one JSON object: each walk's
// outcome with every step's replies, and any error the page raised.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { openPage } from './browser.mjs';

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const STEP_TIMEOUT_MS = plan.stepTimeoutMs || 20000;
const SETTLE_MS = 300;
const vars = {};

const fillIn = (value) =>
  typeof value === 'string' ? value.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? `{${name}}`) : value;

/** Every message in the chat, oldest first: who sent it and its visible text. */
async function messages(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[aria-label="Message header"]')].map((header) => ({
      fromBot: header.querySelector('[aria-label="Message author"]') !== null,
      text: header.parentElement.innerText,
    })),
  );
}

/** Wait for the bot's messages after `since` to contain every expected text, then settle. */
async function awaitReplies(page, since, expected) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let replies = [];
  let lastCount = -1;
  let stableSince = Date.now();
  for (;;) {
    const all = await messages(page);
    replies = all.slice(since).filter((m) => m.fromBot).map((m) => m.text);
    const joined = replies.join('\n');
    const missing = expected.filter((text) => !joined.includes(text));
    if (all.length !== lastCount) {
      lastCount = all.length;
      stableSince = Date.now();
    }
    const settled = Date.now() - stableSince >= SETTLE_MS;
    if (replies.length > 0 && missing.length === 0 && settled) return { replies, count: all.length };
    if (Date.now() > deadline) {
      const seen = replies.length ? replies.join('\n---\n') : '(no reply)';
      throw new Error(`waited for ${JSON.stringify(missing)}; the bot said:\n${seen}`);
    }
    await page.waitForTimeout(100);
  }
}

async function say(page, text) {
  const box = page.locator('[contenteditable="true"][role="textbox"]');
  await box.click();
  await box.fill(text);
  await box.press('Enter');
}

/** The field a person would find by `label`: Teams' renderer names some fields only by an
 * aria-label (checkbox and radio choices) or by their label plus more (text and date fields). */
async function findField(card, label) {
  const quoted = label.replace(/["\\]/g, '\\$&');
  const candidates = [
    card.getByLabel(label, { exact: true }),
    card.locator(`[aria-label="${quoted}"]`),
    card.getByLabel(label),
  ];
  for (const candidate of candidates) {
    if ((await candidate.count()) > 0) return candidate.first();
  }
  throw new Error(`no field labelled "${label}" on the card`);
}

async function fillField(card, label, value) {
  const field = await findField(card, label);
  const [tag, type] = await field.evaluate((el) => [el.tagName.toLowerCase(), el.type || '']);
  if (tag === 'input' && (type === 'checkbox' || type === 'radio')) {
    // Fluent UI draws its own box over the real input: set it as a click on its label would.
    await field.setChecked(Boolean(value), { force: true });
  } else if (tag === 'select') {
    await field.selectOption({ label: String(value) });
  } else {
    await field.fill(String(value));
  }
}

async function press(page, title, fill) {
  const button = page.getByRole('button', { name: title, exact: true });
  const card = page.locator('.ac-adaptiveCard').filter({ has: button }).last();
  if ((await card.count()) === 0) throw new Error(`no card has a button "${title}"`);
  for (const [label, value] of Object.entries(fill || {})) {
    await fillField(card, fillIn(label), fillIn(value));
  }
  await card.getByRole('button', { name: title, exact: true }).last().click();
}

function run({ argv, env, cwd }) {
  const result = spawnSync(argv[0], argv.slice(1), { env, cwd, encoding: 'utf8', timeout: 60000 });
  if (result.status !== 0) {
    throw new Error(`${argv.join(' ')} exited ${result.status}: ${(result.stderr || '').slice(-1000)}`);
  }
}

async function runWalk(page, walk, since) {
  const steps = [];
  let count = since;
  for (const [index, step] of walk.steps.entries()) {
    const began = Date.now();
    const before = (await messages(page)).length;
    const acts = step.say !== undefined || step.press !== undefined || step.run !== undefined;
    const start = acts ? before : count;
    if (step.run !== undefined) run(step.run);
    if (step.say !== undefined) await say(page, fillIn(step.say));
    if (step.press !== undefined) await press(page, fillIn(step.press), step.fill);
    const expected = (step.expect || []).map(fillIn);
    // A command the bot says nothing about (e.g. `edi-bot events create`): nothing to wait for.
    const silent = step.run !== undefined && expected.length === 0 && !step.say && !step.press;
    const { replies, count: after } = silent
      ? { replies: [], count: before }
      : await awaitReplies(page, start, expected);
    count = after;
    for (const [name, pattern] of Object.entries(step.capture || {})) {
      const match = replies.join('\n').match(new RegExp(pattern));
      if (!match) throw new Error(`nothing in the replies matches ${pattern} (for ${name})`);
      vars[name] = match[1];
    }
    await page.screenshot({
      path: path.join(plan.artifacts, `${walk.name}-${String(index + 1).padStart(2, '0')}.png`),
    });
    steps.push({ step, replies, ms: Date.now() - began });
  }
  return { steps, count };
}

fs.mkdirSync(plan.artifacts, { recursive: true });
const { page, errors, close } = await openPage();
page.setDefaultTimeout(5000);
const outcomes = [];
try {
  await page.goto(plan.url);
  let count = 0;
  for (const walk of plan.walks) {
    try {
      const result = await runWalk(page, walk, count);
      count = result.count;
      outcomes.push({ name: walk.name, ok: true, steps: result.steps });
    } catch (error) {
      await page.screenshot({ path: path.join(plan.artifacts, `${walk.name}-failed.png`) });
      outcomes.push({ name: walk.name, ok: false, error: String(error.message || error) });
      count = (await messages(page)).length;
      await say(page, 'cancel').catch(() => {});
      await page.waitForTimeout(1500);
      count = (await messages(page)).length;
    }
  }
} finally {
  process.stdout.write(JSON.stringify({ walks: outcomes, vars, pageErrors: errors }));
  await close();
}

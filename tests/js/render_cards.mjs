// Renders Adaptive Cards with Microsoft's `adaptivecards` JavaScript renderer, in headless
// chromium, with Teams' host config; all cards in one page load.
//
//   node render_cards.mjs CARDS.json [SCREENSHOT_DIR]
//
// CARDS.json is [{"name": ..., "card": {...}}, ...]. Prints one JSON object: for each card the
// renderer's parse and validation events (target schema 1.5), whether it rendered, and the
// text and buttons a person would see; and any error the page raised.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPage } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const [cardsFile, screenshotDir] = process.argv.slice(2);
const cards = JSON.parse(fs.readFileSync(cardsFile, 'utf8'));
// Teams' host config, as published in Microsoft's adaptivecards-designer package
// (lib/hostConfigs/microsoft-teams-light.json, MIT licence).
const hostConfig = JSON.parse(fs.readFileSync(path.join(here, 'teams-host-config.json'), 'utf8'));
const library = path.join(here, 'node_modules', 'adaptivecards', 'dist');

const { page, errors, close } = await openPage({ width: 560, height: 900 });
try {
  await page.setContent('<!doctype html><html><body style="font-family: sans-serif"></body></html>');
  await page.addStyleTag({ path: path.join(library, 'adaptivecards.css') });
  await page.addScriptTag({ path: path.join(library, 'adaptivecards.min.js') });
  const results = await page.evaluate(
    ({ cards, hostConfig }) => {
      const AC = window.AdaptiveCards;
      const describe = (event) => ({
        phase: AC.ValidationPhase[event.phase],
        event: AC.ValidationEvent[event.event],
        message: event.message,
      });
      return cards.map(({ name, card }, index) => {
        const adaptiveCard = new AC.AdaptiveCard();
        adaptiveCard.hostConfig = new AC.HostConfig(hostConfig);
        const context = new AC.SerializationContext(AC.Versions.v1_5);
        const problems = [];
        try {
          adaptiveCard.parse(card, context);
        } catch (error) {
          problems.push({ phase: 'Parse', event: 'Exception', message: String(error) });
        }
        for (let i = 0; i < context.eventCount; i++) problems.push(describe(context.getEventAt(i)));
        for (const event of adaptiveCard.validateProperties().validationEvents) {
          problems.push(describe(event));
        }
        const frame = document.createElement('section');
        frame.id = `card-${index}`;
        frame.style.cssText = 'width: 520px; margin: 8px; border: 1px solid #ccc';
        document.body.appendChild(frame);
        let rendered = null;
        try {
          rendered = adaptiveCard.render();
        } catch (error) {
          problems.push({ phase: 'Render', event: 'Exception', message: String(error) });
        }
        if (rendered) frame.appendChild(rendered);
        else problems.push({ phase: 'Render', event: 'NotRendered', message: 'render() gave nothing' });
        const buttons = [...frame.querySelectorAll('button')].map((b) => b.innerText.trim());
        return {
          name,
          problems,
          text: rendered ? rendered.innerText : '',
          buttons,
          inputs: frame.querySelectorAll('input, textarea, select').length,
        };
      });
    },
    { cards, hostConfig },
  );
  if (screenshotDir) {
    fs.mkdirSync(screenshotDir, { recursive: true });
    for (const [index, { name }] of results.entries()) {
      await page.locator(`#card-${index}`).screenshot({ path: path.join(screenshotDir, `${name}.png`) });
    }
  }
  process.stdout.write(JSON.stringify({ results, pageErrors: errors }));
} finally {
  await close();
}

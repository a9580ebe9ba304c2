// Renders Adaptive Cards with Microsoft's `adaptivecards` JavaScript renderer, in headless
// chromium, with Teams' host config; all cards in one page load.
//
//   node render_cards.mjs CARDS.json [SCREENSHOT_DIR]
//
// CARDS.json is [{"name": ..., "card": {...}}, ...]. Prints one JSON object: for each card the
// renderer's parse and validation events (target schema 1.5), whether it rendered, the text and
// buttons a person would see, what its Markdown made (links, images, formatting elements) and
// what a linkifier would still find in its visible text; and any error the page raised.
//
// Markdown is processed by markdown-it, the processor the `adaptivecards` package documents,
// set as permissive as any Teams client: raw HTML allowed and bare URLs, www. names and e-mail
// addresses made into links (linkify). What is safe here is safe in Teams.
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
const markdownIt = path.join(here, 'node_modules', 'markdown-it', 'dist', 'markdown-it.min.js');

const { page, errors, close } = await openPage({ width: 560, height: 900 });
try {
  await page.setContent('<!doctype html><html><body style="font-family: sans-serif"></body></html>');
  await page.addStyleTag({ path: path.join(library, 'adaptivecards.css') });
  await page.addScriptTag({ path: path.join(library, 'adaptivecards.min.js') });
  await page.addScriptTag({ path: markdownIt });
  const results = await page.evaluate(
    ({ cards, hostConfig }) => {
      const AC = window.AdaptiveCards;
      const md = window.markdownit({ html: true, linkify: true });
      AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
        result.outputHtml = md.render(text);
        result.didProcess = true;
      };
      // Elements only Markdown (or HTML in it) makes inside text: the renderer makes none.
      const FORMATTING = ['a', 'img', 'strong', 'em', 'b', 'i', 'u', 'ul', 'ol', 'li', 'h1', 'h2',
        'h3', 'h4', 'h5', 'h6', 'code', 'pre', 'blockquote', 'hr', 'table', 'del', 's',
        'script', 'iframe', 'span', 'font', 'sup', 'sub', 'mark', 'details', 'input', 'form'];
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
        const text = rendered ? rendered.innerText : '';
        const formatting = {};
        const formatted = [];
        for (const tag of FORMATTING) {
          const found = [...frame.querySelectorAll(`.ac-textBlock ${tag}`)];
          if (found.length) formatting[tag] = found.length;
          for (const element of found) formatted.push([tag, element.textContent]);
        }
        return {
          name,
          problems,
          text,
          buttons,
          inputs: frame.querySelectorAll('input, textarea, select').length,
          formatting,
          formatted,
          links: [...frame.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
          images: [...frame.querySelectorAll('img')].map((i) => i.getAttribute('src')),
          linkified: (md.linkify.match(text) || []).map((m) => m.url),
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

// Checks a self-contained HTML page (the HR quarterly report) in Debian's chromium:
// axe-core against WCAG 2.2 AA, horizontal overflow, and SVG labels that collide or are cut off.
//
//   node check_report.mjs PAGE.html SCREENSHOT.png [WIDTH]
//
// Prints one JSON object: axe's violations (id, impact, help, the first few targets), the
// page's scroll width against the window's, every pair of SVG texts whose boxes overlap, every
// SVG text crossed by a dashed (target) line, every SVG text outside its chart, each table that
// scrolls in its own container (by its label), and any error
// the page raised. The page is loaded with setContent, so it cannot fetch anything.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPage } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const [pageFile, screenshot, widthArg] = process.argv.slice(2);
const width = Number(widthArg || 1280);
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const { page, errors, close } = await openPage({ width, height: 900 });
try {
  await page.setContent(fs.readFileSync(pageFile, 'utf8'), { waitUntil: 'load' });
  const layout = await page.evaluate(() => {
    const overlaps = (a, b) =>
      a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    const collisions = [];
    const crossed = [];
    const outside = [];
    for (const svg of document.querySelectorAll('svg')) {
      const box = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll('text')]
        .filter((t) => t.textContent.trim())
        .map((t) => ({ text: t.textContent.trim(), rect: t.getBoundingClientRect() }));
      const dashed = [...svg.querySelectorAll('line[stroke-dasharray]')].map((l) => {
        const r = l.getBoundingClientRect();
        return { left: r.left - 1, right: r.right + 1, top: r.top - 1, bottom: r.bottom + 1 };
      });
      const label = svg.getAttribute('aria-label') || '';
      texts.forEach((a, i) => {
        if (a.rect.left < box.left - 0.5 || a.rect.right > box.right + 0.5 ||
            a.rect.top < box.top - 0.5 || a.rect.bottom > box.bottom + 0.5) {
          outside.push({ chart: label.slice(0, 80), text: a.text });
        }
        texts.slice(i + 1).forEach((b) => {
          if (overlaps(a.rect, b.rect)) collisions.push({ chart: label.slice(0, 80), a: a.text, b: b.text });
        });
        dashed.forEach((line) => {
          if (overlaps(a.rect, line)) crossed.push({ chart: label.slice(0, 80), text: a.text });
        });
      });
    }
    return {
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      collisions,
      crossed,
      outside,
      scrolling: [...document.querySelectorAll('.wide')]
        .filter((w) => w.scrollWidth > w.clientWidth + 1)
        .map((w) => w.getAttribute('aria-label')),
      figcaptions: [...document.querySelectorAll('figcaption')].map((f) => ({
        text: f.textContent,
        cut: f.scrollWidth > f.clientWidth + 1,
      })),
    };
  });
  await page.addScriptTag({ path: path.join(here, 'node_modules', 'axe-core', 'axe.min.js') });
  const axe = await page.evaluate(
    async (tags) => {
      const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
      return {
        version: window.axe.version,
        passes: result.passes.length,
        violations: result.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
        })),
      };
    },
    TAGS,
  );
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  process.stdout.write(JSON.stringify({ width, tags: TAGS, ...layout, axe, errors }));
} finally {
  await close();
}

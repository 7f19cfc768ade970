'use strict';
/**
 * Every node's help (locales/en-US/<node>.html, the editor's Help sidebar)
 * stays short enough to read: at most 600 words of text each, in the help
 * style guide's structure; the full references are in docs/nodes/.
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const dir = path.join(root, 'locales', 'en-US');
const MAX_WORDS = 600;

/** The text a reader sees: tags and the <script> wrapper removed, entities decoded. */
function helpText(html) {
  return html
    .replace(/<script[^>]*>|<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Words: whitespace-separated runs holding a letter or a digit (a lone "…" or "·" is not a word). */
function countWords(html) {
  return helpText(html)
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

describe('node help (locales/en-US/*.html)', function () {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.html'));

  it('counts words of the text only', function () {
    assert.strictEqual(
      countWords('<script type="text/html" data-help-name="x"><p>One <code>msg.two</code> three · …</p></script>'),
      3,
    );
    assert.strictEqual(countWords('<dl><dt>a <span class="property-type">string</span></dt></dl>'), 2);
  });

  it('has a help file for every node in package.json', function () {
    const types = Object.keys(require('../../package.json')['node-red'].nodes);
    for (const type of types) {
      assert.ok(
        files.some((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes(`data-help-name="${type}"`)),
        `help for ${type}`,
      );
    }
  });

  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.html'))) {
    it(`${file}: at most ${MAX_WORDS} words, the first paragraph first, and the full reference linked when there is one`, function () {
      const html = fs.readFileSync(path.join(dir, file), 'utf8');
      const words = countWords(html);
      assert.ok(words <= MAX_WORDS, `${file} has ${words} words (at most ${MAX_WORDS}; move the rest to docs/nodes/)`);
      // the style guide: the first element is the <p> the palette shows as the tooltip
      assert.match(html, /^<script type="text\/html" data-help-name="[^"]+">\s*<p>/, file);
      const doc = path.join(root, 'docs', 'nodes', file.replace(/\.html$/, '.md'));
      if (fs.existsSync(doc))
        assert.ok(html.includes(`docs/nodes/${path.basename(doc)}`), `${file} names ${path.relative(root, doc)}`);
    });
  }
});

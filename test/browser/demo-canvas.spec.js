'use strict';
/**
 * The demo flow as the editor draws it (examples/01): no two nodes overlap, no
 * error wire crosses another wire, and the flow fits 1280 px wide at zoom 1.
 * Boxes are the editor's own drawing (each node's SVG group), wires are taken
 * as straight lines from output port to input port.
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startNodeRed, root } = require('../support/nodered');
const { describeInBrowsers } = require('../support/browser');

const DEMO = path.join(root, 'examples', '01 Demo - event to encrypted delivery.json');
/** node types whose last output is the error output */
const ERROR_LAST = /^saypro-/;

function overlaps(a, b, gap) {
  return a.x1 < b.x2 + gap && b.x1 < a.x2 + gap && a.y1 < b.y2 + gap && b.y1 < a.y2 + gap;
}

function crosses(p1, p2, p3, p4) {
  const d = (a, b, c) => (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
  const d1 = d(p3, p4, p1);
  const d2 = d(p3, p4, p2);
  const d3 = d(p1, p2, p3);
  const d4 = d(p1, p2, p4);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

describeInBrowsers('demo canvas', function (ui) {
  let nr;
  const flow = JSON.parse(fs.readFileSync(DEMO, 'utf8'));
  const tab = flow.find((n) => n.type === 'tab');

  before(async function () {
    nr = await startNodeRed({ flow, env: { SAYPRO_DEMO_KEY: 'ab'.repeat(32) } });
    await ui.open(nr.base + '/');
  });
  after(async function () {
    if (nr) await nr.stop();
  });

  it('has no overlapping nodes, no crossing error wires, and fits 1280 px wide', async function () {
    const count = flow.filter((n) => n.z === tab.id).length;
    // the flow is loaded, its tab shown, and each node drawn (a node has its size once drawn)
    await ui.page.waitFor(
      ([z, n]) => {
        if (RED.nodes.filterNodes({ z }).length !== n) return false;
        if (RED.workspaces.active() !== z) RED.workspaces.show(z);
        return RED.nodes.filterNodes({ z }).every((x) => x.w > 0 && x.h > 0);
      },
      [tab.id, count],
    );
    await ui.page.evaluate(() => {
      if (RED.view.zoomZero) RED.view.zoomZero();
    });
    const boxes = await ui.page.evaluate((z) => {
      const out = {};
      RED.nodes.filterNodes({ z }).forEach((n) => {
        out[n.id] = {
          type: n.type,
          name: n.name || n.type,
          x1: n.x - n.w / 2,
          x2: n.x + n.w / 2,
          y1: n.y - n.h / 2,
          y2: n.y + n.h / 2,
          outputs: n.outputs || 0,
        };
      });
      return out;
    }, tab.id);
    const ids = Object.keys(boxes);
    assert.ok(ids.length > 10, 'the demo is drawn');
    const problems = [];
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        if (overlaps(boxes[ids[i]], boxes[ids[j]], 10))
          problems.push(`"${boxes[ids[i]].name}" overlaps "${boxes[ids[j]].name}"`);
      }
    }
    const right = Math.max(...ids.map((id) => boxes[id].x2));
    const left = Math.min(...ids.map((id) => boxes[id].x1));
    if (right > 1280) problems.push(`the flow reaches x=${Math.round(right)} (more than 1280 px)`);
    assert.ok(left >= 0);

    // wires, straight from the output port (right edge) to the input port (left edge)
    const wires = [];
    for (const n of flow.filter((x) => x.z === tab.id && Array.isArray(x.wires))) {
      n.wires.forEach((targets, port) => {
        const a = boxes[n.id];
        const count = n.wires.length;
        for (const t of targets) {
          const b = boxes[t];
          wires.push({
            from: n.id,
            to: t,
            error: ERROR_LAST.test(n.type) && count > 1 && port === count - 1,
            p1: { x: a.x2, y: a.y1 + ((port + 1) * (a.y2 - a.y1)) / (count + 1) },
            p2: { x: b.x1, y: (b.y1 + b.y2) / 2 },
          });
        }
      });
    }
    for (const e of wires.filter((w) => w.error)) {
      for (const w of wires) {
        if (w === e || w.from === e.from || w.to === e.to || w.from === e.to || w.to === e.from) continue;
        if (crosses(e.p1, e.p2, w.p1, w.p2))
          problems.push(
            `the error wire ${boxes[e.from].name} → ${boxes[e.to].name} crosses ${boxes[w.from].name} → ${boxes[w.to].name}`,
          );
      }
      // nor runs through a node
      for (const id of ids) {
        if (id === e.from || id === e.to) continue;
        const b = boxes[id];
        const box = [
          { x: b.x1, y: b.y1 },
          { x: b.x2, y: b.y1 },
          { x: b.x2, y: b.y2 },
          { x: b.x1, y: b.y2 },
        ];
        if (box.some((p, k) => crosses(e.p1, e.p2, p, box[(k + 1) % 4])))
          problems.push(`the error wire ${boxes[e.from].name} → ${boxes[e.to].name} runs through "${b.name}"`);
      }
    }
    assert.deepStrictEqual(problems, []);
  });
});

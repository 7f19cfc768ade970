'use strict';
/**
 * bench-driver: the peer benchmark's message source and completion signal
 * inside a real Node-RED process (loaded through settings.nodesDir, never
 * part of the package). Output 1 feeds the pipeline with node.send, the way
 * an inject node does; whatever reaches its input is a completed message
 * (msg.benchSeq). It keeps a fixed number in flight (bench/peers/loop.js)
 * and reports the figures to the parent process over IPC. It waits for
 * {type:'run', ...} from the parent; nothing happens without it.
 */
const { ClosedLoop, warmupAndMeasure } = require('../loop');
const { eventData, eventMeta } = require('../record');

module.exports = function (RED) {
  function BenchDriver(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const loop = new ClosedLoop((i) => {
      node.send({ payload: eventData(i), event: eventMeta(i), benchSeq: i });
    });

    node.on('input', (msg, send, done) => {
      // success: a 2xx that passed every check; anything carrying msg.error failed
      const status = Number(msg.statusCode);
      const ok = !msg.error && status >= 200 && status < 300 && !(msg.check && msg.check.passed === false);
      loop.complete(msg.benchSeq, ok);
      done();
    });

    const onMessage = (m) => {
      if (!m || m.type !== 'run') return;
      warmupAndMeasure(loop, m).then(
        (result) => process.send && process.send({ type: 'result', ...result }),
        (err) => process.send && process.send({ type: 'error', error: String((err && err.stack) || err) }),
      );
    };
    process.on('message', onMessage);
    if (process.send) process.send({ type: 'driver-ready' });

    node.on('close', (done) => {
      process.removeListener('message', onMessage);
      done();
    });
  }
  RED.nodes.registerType('bench-driver', BenchDriver);
};

/**
 * UDP under loss: 20 % of SIP datagrams to and from the PBX are dropped by nftables inside a network
 * namespace this test creates; registration and a whole call (INVITE … BYE) still complete because
 * the transport retransmits (Timers A/E; sip.js has none for UDP). Needs root for ip netns / nft.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLossyNamespace, lossyNamespaceUnsupportedReason } from '../harness/network';
import { repoRoot } from '../harness/headless-switchboard';

test('registration and a call complete with 20 % of SIP datagrams lost', async (t) => {
  const unsupported = lossyNamespaceUnsupportedReason();
  if (unsupported) {
    t.skip(`SKIPPED: network namespaces unavailable here (${unsupported})`);
    return;
  }
  const ns = createLossyNamespace({ lossPercent: 0 });
  try {
    const child = ns.spawn('udp-loss-scenario', process.execPath, ['--import', 'tsx', join(repoRoot, 'tests/integration/udp-loss.scenario.ts')], {
      cwd: repoRoot,
      env: { ...process.env, LOSS_PERCENT: '20' },
    });
    await child.exited;
    const line = child
      .logs()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{"loss"'));
    assert.ok(line, `the scenario printed its result:\n${child.logs().slice(-3000)}`);
    const result = JSON.parse(line) as Record<string, unknown>;
    assert.equal(result.error, undefined, `scenario error: ${String(result.error)}\n${child.logs().slice(-3000)}`);
    assert.equal(result.registered, 'registered');
    assert.equal(result.callState, 'connected', `call outcome: ${String(result.callReason)}`);
    assert.equal(result.endReason, 'You hung up');
    assert.equal(result.bobSawHangup, true);
    assert.ok(Number(result.droppedByNft) > 0, `the network really lost datagrams: ${String(result.droppedByNft)}`);
    assert.ok(Number(result.retransmissions) > 0, `our transport retransmitted: ${String(result.retransmissions)} of ${String(result.requestsSent)}`);
  } finally {
    ns.cleanup();
  }
});

/**
 * Packet capture on the loopback interface with dumpcap (Wireshark's capture engine), so times of
 * SIP and RTP packets of Switchboard and baresip come from ONE clock: the kernel's capture
 * timestamp. Needs root (we are) or CAP_NET_RAW.
 *
 * Contract:
 * - start(): resolves once dumpcap reports it is writing the file (the BPF filter is active then).
 * - stop(): packets reach dumpcap in blocks (libpcap TPACKET_V3 waits up to ~1 s to fill a block),
 *   so stop() first waits FLUSH_MS, then sends SIGINT — SIGTERM would lose the block in flight —
 *   and resolves with every UDP datagram in the file.
 * - The dumpcap process is killed if the benchmark process exits without stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readPcapUdp, type UdpDatagram } from './pcap-reader';

const DUMPCAP = '/usr/bin/dumpcap';
const FLUSH_MS = 2000;
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface LoopbackCapture {
  readonly file: string;
  stop(): Promise<UdpDatagram[]>;
}

export async function startLoopbackCapture(dir: string, name: string, bpfFilter: string): Promise<LoopbackCapture> {
  if (!existsSync(DUMPCAP)) throw new Error(`${DUMPCAP} not found (apt-get install tshark)`);
  const file = join(dir, `${name}.pcap`);
  const child = spawn(DUMPCAP, ['-i', 'lo', '-f', bpfFilter, '-P', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!/^File: /m.test(stderr)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dumpcap exited before capturing: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dumpcap did not start capturing within 10 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    file,
    async stop() {
      await new Promise((r) => setTimeout(r, FLUSH_MS));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`dumpcap ended with code ${code}: ${stderr.trim()}`);
      return readPcapUdp(file);
    },
  };
}

/**
 * Run `body` while `capture` records, then stop it and return the packets. If `body` fails, the
 * capture is still stopped (a failure to stop is reported on stderr) and body's error is rethrown.
 */
export async function captureDuring(capture: LoopbackCapture, body: () => Promise<void>): Promise<UdpDatagram[]> {
  try {
    await body();
  } catch (error) {
    await capture.stop().catch((stopError: unknown) => console.error(`[bench] could not stop capture ${capture.file}:`, stopError));
    throw error;
  }
  return capture.stop();
}

// Network impairment for tests, two ways:
//  (a) startImpairingRelay: a userspace UDP relay (loss/delay/jitter/reorder, seeded) — works
//      anywhere, no privileges; put it between our softphone and a peer.
//  (b) withLossyNamespace: kernel-level random UDP loss (nftables numgen) inside a network
//      namespace joined by a veth pair; needs root. lossyNamespaceUnsupportedReason() tells why not.
export { startImpairingRelay, type ImpairingRelay, type ImpairmentOptions, type RelayStats } from './impairing-relay';
export {
  withLossyNamespace,
  createLossyNamespace,
  lossyNamespaceUnsupportedReason,
  type LossyNamespace,
  type LossyNamespaceOptions,
} from './lossy-namespace';

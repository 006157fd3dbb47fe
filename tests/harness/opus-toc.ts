/**
 * Audio bandwidth (Hz) an Opus packet codes, from the configuration in its TOC byte (RFC 6716
 * section 3.1): configs 0-11 SILK NB/MB/WB, 12-15 hybrid SWB/FB, 16-31 CELT NB/WB/SWB/FB.
 */
export function opusCodedBandwidthHz(toc: number): number {
  const config = toc >> 3;
  const band = config < 12 ? Math.floor(config / 4) : config < 16 ? (config < 14 ? 3 : 4) : [0, 2, 3, 4][Math.floor((config - 16) / 4)]!;
  return [4000, 6000, 8000, 12000, 20000][band]!;
}

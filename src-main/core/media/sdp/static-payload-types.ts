/**
 * Static RTP payload types for audio (RFC 3551 table 4). An offer may list these on the m= line
 * without an a=rtpmap, so the meaning has to come from this table.
 */
export interface PayloadFormat {
  encodingName: string;
  clockRate: number;
  channels: number;
}

export const staticAudioPayloadTypes: ReadonlyMap<number, PayloadFormat> = new Map([
  [0, { encodingName: 'PCMU', clockRate: 8000, channels: 1 }],
  [3, { encodingName: 'GSM', clockRate: 8000, channels: 1 }],
  [4, { encodingName: 'G723', clockRate: 8000, channels: 1 }],
  [5, { encodingName: 'DVI4', clockRate: 8000, channels: 1 }],
  [6, { encodingName: 'DVI4', clockRate: 16000, channels: 1 }],
  [7, { encodingName: 'LPC', clockRate: 8000, channels: 1 }],
  [8, { encodingName: 'PCMA', clockRate: 8000, channels: 1 }],
  [9, { encodingName: 'G722', clockRate: 8000, channels: 1 }],
  [10, { encodingName: 'L16', clockRate: 44100, channels: 2 }],
  [11, { encodingName: 'L16', clockRate: 44100, channels: 1 }],
  [12, { encodingName: 'QCELP', clockRate: 8000, channels: 1 }],
  [13, { encodingName: 'CN', clockRate: 8000, channels: 1 }],
  [14, { encodingName: 'MPA', clockRate: 90000, channels: 1 }],
  [15, { encodingName: 'G728', clockRate: 8000, channels: 1 }],
  [16, { encodingName: 'DVI4', clockRate: 11025, channels: 1 }],
  [17, { encodingName: 'DVI4', clockRate: 22050, channels: 1 }],
  [18, { encodingName: 'G729', clockRate: 8000, channels: 1 }],
]);

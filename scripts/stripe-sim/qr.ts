/**
 * QR codes for WeChat Pay's `wechat_pay_display_qr_code` next action: the PNG data URL
 * (`image_data_url`) and the PNG / SVG images (`image_url_png`, `image_url_svg`) of the QR
 * code whose content is `data`. https://docs.stripe.com/payments/wechat-pay/accept-a-payment
 *
 * Why here: Stripe hands out a ready QR image; the demo storefront shows it and a phone (or a
 * test) scanning it must land on the simulator's authorization page. The matrix comes from
 * the `qrcode` package; the PNG is written directly (1-bit grayscale, zlib), synchronously, so
 * the API handler that creates the PaymentIntent stays synchronous.
 */

import { deflateSync } from 'node:zlib';
import QRCode from 'qrcode';

const SCALE = 4;
const MARGIN = 4;

function matrix(text: string): { size: number; dark: (row: number, col: number) => boolean } {
  const m = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  return { size: m.size, dark: (r, c) => m.get(r, c) === 1 };
}

/** A PNG of the QR code of `text`. */
export function qrPng(text: string): Buffer {
  const { size, dark } = matrix(text);
  const width = (size + 2 * MARGIN) * SCALE;
  const rowBytes = Math.ceil(width / 8);
  const raw = Buffer.alloc((rowBytes + 1) * width);
  for (let y = 0; y < width; y++) {
    const offset = y * (rowBytes + 1); // filter byte 0 (None) first
    for (let x = 0; x < width; x++) {
      const r = Math.floor(y / SCALE) - MARGIN;
      const c = Math.floor(x / SCALE) - MARGIN;
      const isDark = r >= 0 && c >= 0 && r < size && c < size && dark(r, c);
      // In 1-bit grayscale, 1 is white.
      if (!isDark) raw[offset + 1 + (x >> 3)] = (raw[offset + 1 + (x >> 3)] ?? 0) | (0x80 >> (x & 7));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(width, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function qrPngDataUrl(text: string): string {
  return `data:image/png;base64,${qrPng(text).toString('base64')}`;
}

/** An SVG of the QR code of `text`. */
export function qrSvg(text: string): string {
  const { size, dark } = matrix(text);
  const full = size + 2 * MARGIN;
  let path = '';
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) if (dark(r, c)) path += `M${c + MARGIN} ${r + MARGIN}h1v1h-1z`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" shape-rendering="crispEdges"><rect width="${full}" height="${full}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length, 0);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([len, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

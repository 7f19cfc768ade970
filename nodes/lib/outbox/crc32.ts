/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of every
 * journal record. Node 20.15 / 22.2 and later have `zlib.crc32` (native and
 * fast); older engines (package.json says node >= 18) use the table
 * implementation below. Both give the same numbers (tested).
 */
import * as zlib from 'zlib';

type Crc32Fn = (data: Uint8Array, value?: number) => number;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/**
 * Table-driven CRC-32 in plain JavaScript. `value` continues a previous
 * checksum (like `zlib.crc32(data, value)`), so data can be fed in pieces.
 */
export function crc32Table(data: Uint8Array, value = 0): number {
  if (!table) table = makeTable();
  const t = table;
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native: Crc32Fn | undefined =
  typeof (zlib as unknown as { crc32?: unknown }).crc32 === 'function'
    ? (zlib as unknown as { crc32: Crc32Fn }).crc32
    : undefined;

/** true when this engine has `zlib.crc32` and it is the one in use */
export const nativeCrc32 = native !== undefined;

/** CRC-32 of `data`, continuing from `value` (default 0); unsigned 32-bit result. */
export function crc32(data: Uint8Array, value = 0): number {
  return native ? native(data, value) >>> 0 : crc32Table(data, value);
}

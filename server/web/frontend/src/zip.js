// A zip of text files, stored (not compressed): how the studio uploads a package, because a
// multipart part's filename reaches Django without its folder (forms/, rehearsals/) and the
// package's files are told apart by their folders. No library: the format's few records.

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function record(size, fields) {
  const view = new DataView(new ArrayBuffer(size));
  let at = 0;
  for (const [bytes, value] of fields) {
    if (bytes === 4) view.setUint32(at, value, true);
    else view.setUint16(at, value, true);
    at += bytes;
  }
  return new Uint8Array(view.buffer);
}

// files: {name: text} -> a Blob of the zip (UTF-8 names, flag bit 11).
export function zip(files) {
  const encoder = new TextEncoder();
  const parts = [];
  const central = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const path = encoder.encode(name);
    const data = encoder.encode(text);
    const crc = crc32(data);
    const common = [[2, 20], [2, 0x0800], [2, 0], [2, 0], [2, 0x21], [4, crc],
      [4, data.length], [4, data.length], [2, path.length], [2, 0]];
    const local = record(30, [[4, 0x04034b50], ...common]);
    parts.push(local, path, data);
    central.push(record(46, [[4, 0x02014b50], [2, 20], ...common, [2, 0], [2, 0], [2, 0],
      [4, 0], [4, offset]]), path);
    offset += local.length + path.length + data.length;
  }
  const size = central.reduce((n, p) => n + p.length, 0);
  const count = Object.keys(files).length;
  const end = record(22, [[4, 0x06054b50], [2, 0], [2, 0], [2, count], [2, count],
    [4, size], [4, offset], [2, 0]]);
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}

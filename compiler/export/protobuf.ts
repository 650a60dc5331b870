/**
 * The few pieces of the protocol-buffers wire format the ONNX exporter needs
 * (protobuf.dev/programming-guides/encoding): varints, length-delimited fields (strings, bytes,
 * nested messages, packed repeated scalars). Encoding only; a message is built as a list of byte
 * chunks and concatenated once, so nesting costs one copy per level, not one per field.
 * docs/scale-out.md ("Serving with ONNX") says why this is written here, not taken from a library.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** A message under construction: its fields in the order they are added. */
export class Message {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private key(field: number, wire: number): void {
    this.push(varint(BigInt(field * 8 + wire)));
  }

  /** int32, int64 or enum: a varint, negative values as 64-bit two's complement (axis −1) */
  int(field: number, value: number): this {
    this.key(field, VARINT);
    this.push(int64(value));
    return this;
  }

  /** bytes, or a nested message */
  bytes(field: number, value: Uint8Array | Message): this {
    const body = value instanceof Message ? value.finish() : value;
    this.key(field, LENGTH_DELIMITED);
    this.push(varint(BigInt(body.length)));
    this.push(body);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** packed repeated int64 (int64 values are varints, two's complement for negatives) */
  packedInts(field: number, values: readonly number[]): this {
    return this.bytes(field, concat(values.map(int64)));
  }

  /** the encoded message */
  finish(): Uint8Array {
    return concat(this.chunks, this.size);
  }
}

function int64(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new Error(`internal: protobuf integer ${value}`);
  return varint(BigInt.asUintN(64, BigInt(value)));
}

/** Base-128 varint of an unsigned 64-bit value. */
function varint(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Uint8Array.from(out);
}

function concat(parts: readonly Uint8Array[], size = parts.reduce((s, p) => s + p.length, 0)): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

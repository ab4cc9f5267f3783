/**
 * Segments in RFC 9293's own notation, <SEQ=100><ACK=301><CTL=SYN,ACK><DATA=5>: parsed from the
 * scripts' text, and printed back from whatever the learner's connection holds.
 */
import type { Segment } from '@impl/06-handshake/exercise.ts';

/** Parse a segment written the way RFC 9293 writes them. CTL names ACK exactly when ACK= is given. */
export function seg(text: string): Segment {
  const out: Segment = { seq: NaN };
  const flags = new Set<string>();
  for (const [, key, value] of text.matchAll(/<(\w+)=([^>]*)>/g)) {
    if (key === 'SEQ') out.seq = Number(value);
    else if (key === 'ACK') out.ack = Number(value);
    else if (key === 'DATA') out.data = Number(value);
    else if (key === 'CTL') value!.split(',').forEach((f) => flags.add(f));
  }
  if (flags.has('SYN')) out.syn = true;
  if (flags.has('FIN')) out.fin = true;
  if (flags.has('RST')) out.rst = true;
  if (Number.isNaN(out.seq) || flags.has('ACK') !== (out.ack !== undefined)) throw new Error(`Authoring bug: bad segment ${text}`);
  return out;
}

/** A 32-bit sequence number as text: decimal, or hex near the top of the circle; anything else is flagged. */
export function num(n: unknown): string {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= 2 ** 32) return `${String(n)} (not a 32-bit sequence number!)`;
  return n >= 2 ** 31 ? `0x${n.toString(16).toUpperCase()}` : String(n);
}

/** A segment in RFC notation, whatever the learner's object holds. */
export function show(s: Segment): string {
  if (!s || typeof s !== 'object') return String(s);
  const ctl = [s.syn && 'SYN', s.fin && 'FIN', s.rst && 'RST', s.ack !== undefined && 'ACK'].filter(Boolean).join(',');
  return `<SEQ=${num(s.seq)}>${s.ack !== undefined ? `<ACK=${num(s.ack)}>` : ''}${ctl ? `<CTL=${ctl}>` : ''}${s.data ? `<DATA=${s.data}>` : ''}`;
}

/** Segments in RFC notation, comma-separated; "nothing" for none. */
export const showAll = (segs: Segment[]) => (segs.length ? segs.map(show).join(', ') : 'nothing');

/** The same segment: numbers, flags and data length (absent flags and data count as false and 0). */
export function sameSegment(a: Segment, b: Segment): boolean {
  return (
    !!a &&
    a.seq === b.seq &&
    a.ack === b.ack &&
    !!a.syn === !!b.syn &&
    !!a.fin === !!b.fin &&
    !!a.rst === !!b.rst &&
    (a.data ?? 0) === (b.data ?? 0)
  );
}

/**
 * Small formatters for failure messages, shared by the chapter suites: what an error was, and
 * bytes and numbers in hex. (Whole packets as a hex dump: `hexdump` in transcript.ts.)
 */

/** An error that code under test threw, in words: "StreamClosedError [ERR_STREAM_CLOSED]: push after close". */
export function thrown(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return `${err.name}${code !== undefined && code !== '' ? ` [${String(code)}]` : ''}: ${err.message}`;
}

/** What a call did, in words: "returned <shown value>" or "threw <error>". */
export function outcomeOf(fn: () => unknown, show: (v: unknown) => string = String): string {
  try {
    return `returned ${show(fn())}`;
  } catch (err) {
    return `threw ${thrown(err)}`;
  }
}

/** Bytes as spaced hex, "00 01 ff"; past `max` bytes, shortened with the total: "00 01 ... (40 bytes)". */
export function hexBytes(bytes: Uint8Array, max = Infinity): string {
  if (bytes.length === 0) return '(no bytes)';
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > max ? `${shown} ... (${bytes.length} bytes)` : shown;
}

/** An unsigned number in hex with at least `digits` digits: hexNumber(0xabc, 4) is "0x0abc". */
export function hexNumber(n: number, digits = 8): string {
  return `0x${(n >>> 0).toString(16).padStart(digits, '0')}`;
}

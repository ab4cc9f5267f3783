/**
 * Chapter 09 · From byte stream to messages.
 *
 * The encoders are checked byte for byte. The decoders are driven by the test's own encoding
 * (harness.ts), chunk by chunk, with their state and bufferedBytes checked after each step; then
 * every stream is re-split at every byte boundary, one byte at a time, in random pieces and all
 * at once, in memory and over real sockets, and must always give the same frames.
 */
import { describe, it } from 'vitest';
import {
  BadLimitError,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_LINE_BYTES,
  FrameTooLargeError,
  FramingError,
  HEADER_BYTES,
  InvalidUtf8Error,
  LARGEST_LENGTH,
  LengthPrefixDecoder,
  LineDecoder,
  NewlineInLineError,
  TruncatedFrameError,
  encodeFrame,
  encodeLine,
} from '@impl/09-framing/exercise.ts';
import { check, chunkings, describePieces, fc, forAll, forAllSync, hexBytes, pieces, thrown } from '../helpers/index.ts';
import type { Rig } from './harness.ts';
import {
  bufferView,
  bytesOf,
  checkRig,
  concat,
  errorOf,
  everyCut,
  frameBytes,
  frameRig,
  header,
  lesson,
  lineBytes,
  lineRig,
  overSocket,
  same,
  sameFrames,
  seq,
  showChunks,
  showFrames,
  showLines,
  utf8,
} from './harness.ts';

/** A grinning face: 2 UTF-16 code units ('😀'.length is 2), 4 bytes in UTF-8 (f0 9f 98 80). */
const EMOJI = '😀';
/** A sequence of frames with every trap in it: empty frames, bytes 0x80-0xff, a multi-byte character, a header of a frame over 255 bytes. */
const MIXED = [seq(0, 5), new Uint8Array(0), utf8(`é${EMOJI}€`), seq(0x80, 300), new Uint8Array(0), bytesOf(0x0a, 0x0d, 0x00)];
/** Lines with every trap in them: empty lines, characters of 2, 3 and 4 bytes, a '\r' (which is part of the line). */
const LINES = ['hello', '', `é€${EMOJI}`, 'ab\rc', '', 'naïve café ☕'];

/** The ways `bytes` may arrive: one byte at a time, at every cut, in random pieces, all at once. */
function everySplit(bytes: Uint8Array) {
  return [...chunkings(bytes), ...everyCut(bytes)];
}

/** Is `e` a FramingError of class `cls` with `code`? */
function isError(e: unknown, cls: abstract new (...a: never[]) => FramingError, code: string): boolean {
  return e instanceof cls && e instanceof FramingError && e.code === code;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

describe('encoding frames and lines', () => {
  it('encodeFrame writes a 4-byte big-endian length, then the body', () => {
    const cases: [Uint8Array | string, Uint8Array][] = [
      ['hi', bytesOf(0, 0, 0, 2, 0x68, 0x69)],
      [new Uint8Array(0), bytesOf(0, 0, 0, 0)],
      [seq(0xf0, 256), concat([bytesOf(0, 0, 1, 0), seq(0xf0, 256)])],
      [seq(0, 0x10203), concat([bytesOf(0, 1, 2, 3), seq(0, 0x10203)])],
    ];
    for (const [body, want] of cases) {
      const got = encodeFrame(body, LARGEST_LENGTH);
      check(same(got, want), {
        did: `encodeFrame(${typeof body === 'string' ? JSON.stringify(body) : `${body.length} bytes`}) returned ${hexBytes(got, 12)}`,
        expected: `${hexBytes(want, 12)}: the body's length as 4 bytes, most significant first, then the body`,
        lesson: lesson('Four bytes, big-endian'),
      });
    }
  });

  it('counts bytes, not string length (emoji)', () => {
    const frame = encodeFrame(EMOJI);
    const want = bytesOf(0, 0, 0, 4, 0xf0, 0x9f, 0x98, 0x80);
    check(same(frame, want), {
      did: `encodeFrame('${EMOJI}') returned ${hexBytes(frame)}`,
      expected: `${hexBytes(want)}: '${EMOJI}'.length is 2, but its UTF-8 encoding is 4 bytes, and the header counts bytes`,
      lesson: lesson('Lengths count bytes'),
    });
    const line = encodeLine(`a${EMOJI}`);
    const wantLine = bytesOf(0x61, 0xf0, 0x9f, 0x98, 0x80, 0x0a);
    check(same(line, wantLine), { did: `encodeLine('a${EMOJI}') returned ${hexBytes(line)}`, expected: hexBytes(wantLine), lesson: lesson('Lengths count bytes') });
    // Limits count bytes too: two emoji are 4 characters long but 8 bytes.
    const fits = errorOf(() => encodeFrame(EMOJI.repeat(2), 8)) ?? errorOf(() => encodeLine(EMOJI.repeat(2), 8));
    const over = [errorOf(() => encodeFrame(EMOJI.repeat(2), 7)), errorOf(() => encodeLine(EMOJI.repeat(2), 7))];
    check(fits === undefined && over.every((e) => isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (e as FrameTooLargeError).size === 8 && (e as FrameTooLargeError).limit === 7), {
      did: `with a limit of 8, encoding '${EMOJI}${EMOJI}' ${fits === undefined ? 'worked' : `threw ${thrown(fits)}`}; with a limit of 7: ${over.map((e) => (e === undefined ? 'accepted' : thrown(e))).join('; ')}`,
      expected: `'${EMOJI}${EMOJI}' is 8 bytes: accepted under a limit of 8 by both encoders, FrameTooLargeError (size 8, limit 7) under a limit of 7`,
      lesson: lesson('Lengths count bytes'),
    });
  });

  it('encodeLine writes the UTF-8 bytes and a newline, and keeps every other character', () => {
    const text = 'ab\rc\t é€ ÿ';
    const got = encodeLine(text);
    const want = concat([utf8(text), bytesOf(0x0a)]);
    const empty = encodeLine('');
    check(same(got, want) && same(empty, bytesOf(0x0a)), {
      did: `encodeLine(${JSON.stringify(text)}) returned ${hexBytes(got)}; encodeLine('') returned ${hexBytes(empty)}`,
      expected: `${hexBytes(want)} ('\\r' and the bytes 0x80-0xff of the accents included), and 0a for an empty line`,
      lesson: lesson('Lines of UTF-8 text'),
    });
  });

  it('encodeFrame copies the bytes of a view at an offset, and the caller may reuse them', () => {
    const body = seq(0x80, 20);
    const view = bufferView(body, 9);
    const frame = encodeFrame(view);
    const want = concat([header(20), body]);
    const before = Uint8Array.from(frame);
    view.fill(0x11);
    check(same(before, want) && same(frame, want), {
      did: `encodeFrame of a 20-byte view at offset 9 of a larger buffer returned ${hexBytes(before, 24)}${same(frame, before) ? '' : `, and after the caller overwrote its buffer the frame held ${hexBytes(frame, 24)}`}`,
      expected: `${hexBytes(want, 24)}, copied: the view's own bytes (not its whole buffer), unchanged when the caller reuses its buffer`,
      lesson: lesson('Copies, not views'),
    });
  });

  it('refuses a body over the limit, a newline inside a line, and a bad limit', () => {
    const problems: string[] = [];
    const expect = (what: string, fn: () => unknown, ok: (e: unknown) => boolean, want: string) => {
      const e = errorOf(fn);
      if (!ok(e)) problems.push(`${what} ${e === undefined ? 'was accepted' : `threw ${thrown(e)} ${JSON.stringify(e)}`} (expected ${want})`);
    };
    const tooLarge = (size: number, limit: number) => (e: unknown) =>
      isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (e as FrameTooLargeError).size === size && (e as FrameTooLargeError).limit === limit;
    expect('encodeFrame(6 bytes, limit 5)', () => encodeFrame(seq(0, 6), 5), tooLarge(6, 5), 'FrameTooLargeError, size 6, limit 5');
    expect('encodeFrame(1 byte, limit 0)', () => encodeFrame(seq(0, 1), 0), tooLarge(1, 0), 'FrameTooLargeError, size 1, limit 0');
    expect(`encodeFrame(${DEFAULT_MAX_FRAME_SIZE + 1} bytes) with the default limit`, () => encodeFrame(new Uint8Array(DEFAULT_MAX_FRAME_SIZE + 1)), tooLarge(DEFAULT_MAX_FRAME_SIZE + 1, DEFAULT_MAX_FRAME_SIZE), 'FrameTooLargeError at DEFAULT_MAX_FRAME_SIZE');
    expect("encodeLine('abcdef', limit 5)", () => encodeLine('abcdef', 5), tooLarge(6, 5), 'FrameTooLargeError, size 6, limit 5');
    expect(`encodeLine of ${DEFAULT_MAX_LINE_BYTES + 1} bytes with the default limit`, () => encodeLine('x'.repeat(DEFAULT_MAX_LINE_BYTES + 1)), tooLarge(DEFAULT_MAX_LINE_BYTES + 1, DEFAULT_MAX_LINE_BYTES), 'FrameTooLargeError at DEFAULT_MAX_LINE_BYTES');
    // The index is a string index: 'é' is one UTF-16 unit (two bytes), '😀' two units (four bytes).
    for (const [text, index] of [['two\nlines', 3], ['\n', 0], ['end\n', 3], ['é\n', 1], ['😀\n', 2]] as const) {
      expect(`encodeLine(${JSON.stringify(text)})`, () => encodeLine(text), (e) => isError(e, NewlineInLineError, 'ERR_NEWLINE_IN_LINE') && (e as NewlineInLineError).index === index, `NewlineInLineError with index ${index}`);
    }
    for (const bad of [-1, 1.5, Number.NaN, LARGEST_LENGTH + 1]) {
      const isBad = (e: unknown) => isError(e, BadLimitError, 'ERR_BAD_LIMIT') && Object.is((e as BadLimitError).limit, bad);
      expect(`encodeFrame('a', ${bad})`, () => encodeFrame('', bad), isBad, `BadLimitError with limit ${bad}`);
      expect(`encodeLine('a', ${bad})`, () => encodeLine('', bad), isBad, `BadLimitError with limit ${bad}`);
    }
    // The bounds themselves are fine, and a body of exactly the limit fits.
    for (const [what, fn] of [
      ['encodeFrame(5 bytes, limit 5)', () => encodeFrame(seq(0, 5), 5)],
      ["encodeFrame('', limit 0)", () => encodeFrame('', 0)],
      ["encodeLine('abcde', limit 5)", () => encodeLine('abcde', 5)],
      ["encodeLine('', limit 0)", () => encodeLine('', 0)],
      ["encodeFrame('a', LARGEST_LENGTH)", () => encodeFrame('a', LARGEST_LENGTH)],
    ] as const) {
      const e = errorOf(fn);
      if (e !== undefined) problems.push(`${what} threw ${thrown(e)} (expected it to work)`);
    }
    check(problems.length === 0, {
      did: problems.join('\n  '),
      expected: 'FrameTooLargeError (ERR_FRAME_TOO_LARGE, size and limit in bytes) over the limit; NewlineInLineError (ERR_NEWLINE_IN_LINE, the index of the newline); BadLimitError (ERR_BAD_LIMIT, the limit) unless the limit is a whole number from 0 to LARGEST_LENGTH',
      lesson: lesson('Limits are a defence'),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The length-prefix decoder, step by step
// ---------------------------------------------------------------------------------------------

describe('the length-prefix decoder', () => {
  it('keeps both frames when they arrive in one chunk', () => {
    const rig = frameRig();
    rig.push(frameBytes('first', 'second'));
    checkRig(
      sameFrames(rig.out, [utf8('first'), utf8('second')]) && rig.error === undefined,
      rig,
      `it delivered ${showFrames(rig.out)}`,
      'two frames, "first" then "second": one chunk may hold many frames, so keep going until the chunk is used up',
      'A stream has no edges',
    );
  });

  it('waits for a header split across chunks, counting what it holds', () => {
    const rig = frameRig();
    const bytes = frameBytes(seq(0x41, 10));
    const steps: [number, number, string, number][] = [
      // [cut after byte, expected bufferedBytes, state, frames delivered]
      [1, 1, 'header', 0],
      [3, 3, 'header', 0],
      [6, 6, 'body', 0],
      [13, 13, 'body', 0],
      [14, 0, 'header', 1],
    ];
    let from = 0;
    for (const [to, buffered, state, frames] of steps) {
      rig.push(bytes.subarray(from, to));
      from = to;
      checkRig(
        rig.decoder.bufferedBytes === buffered && rig.state === state && rig.out.length === frames && rig.error === undefined,
        rig,
        `after ${to} of the ${bytes.length} bytes: state '${String(rig.state)}', bufferedBytes ${rig.decoder.bufferedBytes}, ${showFrames(rig.out)}`,
        `state '${state}', bufferedBytes ${buffered} (the header counts until its frame is delivered), ${frames} frame(s)`,
        'A decoder is a state machine',
      );
    }
    checkRig(same(rig.out[0]!, seq(0x41, 10)), rig, `it delivered ${showFrames(rig.out)}`, `the 10-byte body ${hexBytes(seq(0x41, 10))}`, 'A decoder is a state machine');
  });

  it('delivers zero-length frames', () => {
    const empty = new Uint8Array(0);
    const bodies = [empty, seq(1, 2), empty, empty, seq(3, 1), empty];
    const bytes = frameBytes(...bodies);
    for (const { label, chunks } of everySplit(bytes)) {
      const rig = frameRig();
      rig.run(chunks);
      checkRig(
        sameFrames(rig.out, bodies) && rig.error === undefined,
        rig,
        `with the stream delivered ${label}, it delivered ${showFrames(rig.out)}${rig.error === undefined ? '' : ` and threw ${thrown(rig.error)}`}`,
        `${showFrames(bodies)}: a header of 00 00 00 00 is a whole frame, delivered as an empty array the moment its header is complete`,
        'Length-prefixed frames',
      );
    }
  });

  it('reads the length big-endian', () => {
    const body = seq(7, 256);
    const rig = frameRig();
    rig.run([concat([bytesOf(0, 0, 1, 0), body, bytesOf(0, 0, 0, 1, 0x2a)])]);
    checkRig(
      sameFrames(rig.out, [body, bytesOf(0x2a)]) && rig.error === undefined,
      rig,
      `for a header 00 00 01 00, then 256 bytes, then a 1-byte frame, it delivered ${showFrames(rig.out)}${rig.error === undefined ? '' : ` and threw ${thrown(rig.error)}`}`,
      'a 256-byte frame, then the frame [2a]: 00 00 01 00 is 256 in network byte order (most significant byte first), not 65536',
      'Four bytes, big-endian',
    );
  });

  it('reads a length with the top bit set as unsigned', () => {
    for (const [h, size] of [[bytesOf(0x80, 0, 0, 0), 2 ** 31], [bytesOf(0xff, 0xff, 0xff, 0xff), LARGEST_LENGTH]] as const) {
      const rig = frameRig({ maxFrameSize: 1000 });
      // The header alone: a decoder that reads it as a negative length may loop forever on body bytes.
      const e = rig.push(h);
      checkRig(
        isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (e as FrameTooLargeError).size === size && (e as FrameTooLargeError).limit === 1000,
        rig,
        `for the header ${hexBytes(h)} it ${e === undefined ? 'threw nothing' : `threw ${thrown(e)} ${JSON.stringify(e)}`}`,
        `FrameTooLargeError with size ${size} and limit 1000: read as a signed number (b0 << 24 without >>> 0) the length is negative and slips past the limit check`,
        'Four bytes, big-endian',
      );
    }
  });

  it('hands out copies: the caller may reuse its chunk', () => {
    // Sockets hand out Buffers, and Buffer's slice() is a view: the frames must survive the caller overwriting its chunks.
    const inOne = seq(0x90, 6);
    const spread = seq(0x10, 9);
    const stream = frameBytes(inOne, spread);
    const rig = frameRig();
    // The cut at 12 splits the second header: the two header bytes kept until the next chunk must be copies too.
    for (const [from, to] of [[0, 10], [10, 12], [12, 17], [17, stream.length]] as const) {
      const chunk = bufferView(stream.subarray(from, to), 3 + from);
      rig.push(chunk);
      // 0xff, not 0: a kept header byte that is still a view would turn 00 00 00 09 into ff ff 00 09.
      chunk.fill(0xff);
    }
    checkRig(
      sameFrames(rig.out, [inOne, spread]) && rig.error === undefined,
      rig,
      `after the caller overwrote each chunk (a Buffer view at an offset) with ff bytes once push() returned, the frames held ${showFrames(rig.out)}${rig.error === undefined ? '' : ` and it threw ${thrown(rig.error)}`}`,
      `${showFrames([inOne, spread])}: frames (and the partial frame kept between chunks) are copies, never views of the caller's chunk`,
      'Copies, not views',
    );
  });

  it('refuses an oversize length before buffering its body', () => {
    const rig = frameRig({ maxFrameSize: 64 });
    const first = rig.push(header(65));
    checkRig(
      isError(first, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (first as FrameTooLargeError).size === 65 && (first as FrameTooLargeError).limit === 64,
      rig,
      `for the header of a 65-byte frame (limit 64) it ${first === undefined ? 'threw nothing' : `threw ${thrown(first)} ${JSON.stringify(first)}`}`,
      'FrameTooLargeError (size 65, limit 64) at once, when the header is complete: before a single byte of the body arrives',
      'Limits are a defence',
    );
    let most = rig.decoder.bufferedBytes;
    for (let i = 0; i < 8; i++) {
      rig.push(seq(i * 10, 10));
      most = Math.max(most, rig.decoder.bufferedBytes);
    }
    checkRig(
      most <= HEADER_BYTES && rig.out.length === 0,
      rig,
      `while 80 more bytes of the body came in, bufferedBytes rose to ${most}; it delivered ${showFrames(rig.out)}`,
      `at most ${HEADER_BYTES} (the header) and no frame: not one byte of a refused body is kept`,
      'Limits are a defence',
    );
    // The same with the default limit, and with the header and body in one chunk.
    const big = frameRig();
    const e = big.push(concat([header(DEFAULT_MAX_FRAME_SIZE + 1), seq(0, 100)]));
    checkRig(
      isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (e as FrameTooLargeError).limit === DEFAULT_MAX_FRAME_SIZE && big.decoder.bufferedBytes <= HEADER_BYTES,
      big,
      `with the default limit, a header declaring ${DEFAULT_MAX_FRAME_SIZE + 1} bytes ${e === undefined ? 'was accepted' : `threw ${thrown(e)}`}, bufferedBytes ${big.decoder.bufferedBytes}`,
      `FrameTooLargeError with limit DEFAULT_MAX_FRAME_SIZE (${DEFAULT_MAX_FRAME_SIZE}), and none of the body kept`,
      'Limits are a defence',
    );
  });

  it('accepts a frame of exactly the limit', () => {
    for (const limit of [0, 5]) {
      const rig = frameRig({ maxFrameSize: limit });
      rig.run([frameBytes(seq(1, limit), new Uint8Array(0))]);
      checkRig(
        rig.error === undefined && sameFrames(rig.out, [seq(1, limit), new Uint8Array(0)]) && rig.decoder.bufferedBytes === 0,
        rig,
        `with maxFrameSize ${limit}, a ${limit}-byte frame ${rig.error === undefined ? `gave ${showFrames(rig.out)}` : `threw ${thrown(rig.error)}`}`,
        'the frame, then the empty frame: the limit is the largest size allowed, not the first one refused',
        'Limits are a defence',
      );
    }
    const d = new LengthPrefixDecoder(() => {});
    check(d.maxFrameSize === DEFAULT_MAX_FRAME_SIZE && new LengthPrefixDecoder(() => {}, { maxFrameSize: 9 }).maxFrameSize === 9, {
      did: `maxFrameSize was ${d.maxFrameSize} with no options`,
      expected: `DEFAULT_MAX_FRAME_SIZE (${DEFAULT_MAX_FRAME_SIZE}) by default, and the option when given`,
      lesson: lesson('Limits are a defence'),
    });
  });

  it('delivers the frames before a bad one, then stays failed', () => {
    const rig = frameRig({ maxFrameSize: 10 });
    const e = rig.push(concat([frameBytes('ok', ''), header(11), seq(0, 4)]));
    const again = [rig.push(frameBytes('later')), rig.end()];
    checkRig(
      sameFrames(rig.out, [utf8('ok'), new Uint8Array(0)]) && isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && again.every((x) => x === e) && rig.state === 'failed',
      rig,
      `it delivered ${showFrames(rig.out)}, threw ${e === undefined ? 'nothing' : thrown(e)}, then later push() and end() ${again.map((x) => (x === e ? 'threw the same error' : x === undefined ? 'worked' : `threw ${thrown(x)}`)).join(' and ')}; state '${String(rig.state)}'`,
      "the frames \"ok\" and [] first, then FrameTooLargeError; from then on state 'failed', and every push() and end() throws that same error object: after a bad header there is no way to find the next frame",
      'After an error, stop',
    );
  });

  it('end of stream in the middle of a frame is an error', () => {
    const cases: [string, Uint8Array, number][] = [
      ['2 bytes of a header', bytesOf(0, 0), 2],
      ['a whole header and no body', header(5), 4],
      ['a header and 3 of its 5 body bytes', concat([header(5), seq(0, 3)]), 7],
      ['a whole frame, then 1 byte of the next header', concat([frameBytes('abc'), bytesOf(0)]), 1],
    ];
    for (const [what, bytes, buffered] of cases) {
      const rig = frameRig();
      const e = rig.run([bytes]);
      const again = [rig.push(frameBytes('x')), rig.end()];
      checkRig(
        isError(e, TruncatedFrameError, 'ERR_TRUNCATED_FRAME') && (e as TruncatedFrameError).bufferedBytes === buffered && rig.state === 'failed' && again.every((x) => x === e),
        rig,
        `when the stream ended after ${what}, end() ${e === undefined ? 'returned quietly' : `threw ${thrown(e)} ${JSON.stringify(e)}`}, then push() and end() ${again.map((x) => (x === e ? 'threw the same error' : x === undefined ? 'worked' : `threw ${thrown(x)}`)).join(' and ')}`,
        `TruncatedFrameError (ERR_TRUNCATED_FRAME) with bufferedBytes ${buffered}, and state 'failed', after which every push() and end() throws that same error: the peer hung up in the middle of a frame`,
        'When the stream ends',
      );
    }
    for (const bytes of [new Uint8Array(0), frameBytes('abc', '')]) {
      const rig = frameRig();
      const e = rig.run([bytes]);
      checkRig(e === undefined, rig, `end() after ${bytes.length === 0 ? 'no bytes at all' : 'whole frames'} threw ${thrown(e)}`, 'nothing: a stream that ends between frames ended cleanly', 'When the stream ends');
    }
  });

  it('refuses a bad limit', () => {
    for (const bad of [-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, LARGEST_LENGTH + 1]) {
      const e = errorOf(() => new LengthPrefixDecoder(() => {}, { maxFrameSize: bad }));
      check(isError(e, BadLimitError, 'ERR_BAD_LIMIT') && Object.is((e as BadLimitError).limit, bad), {
        did: `new LengthPrefixDecoder(onFrame, { maxFrameSize: ${bad} }) ${e === undefined ? 'was accepted' : `threw ${thrown(e)}`}`,
        expected: `BadLimitError (ERR_BAD_LIMIT) with limit ${bad}: a limit is a whole number from 0 to LARGEST_LENGTH`,
        lesson: lesson('Limits are a defence'),
      });
    }
    const top = errorOf(() => new LengthPrefixDecoder(() => {}, { maxFrameSize: LARGEST_LENGTH }));
    check(top === undefined, { did: `maxFrameSize LARGEST_LENGTH threw ${thrown(top)}`, expected: 'a decoder: LARGEST_LENGTH itself is allowed', lesson: lesson('Limits are a defence') });
  });
});

// ---------------------------------------------------------------------------------------------
// The line decoder, step by step
// ---------------------------------------------------------------------------------------------

describe('the line decoder', () => {
  it('keeps both lines when they arrive in one chunk, and delivers empty lines', () => {
    const rig = lineRig();
    rig.push(utf8('first\n\nsecond\npart'));
    checkRig(
      JSON.stringify(rig.out) === JSON.stringify(['first', '', 'second']) && rig.decoder.bufferedBytes === 4,
      rig,
      `it delivered ${showLines(rig.out)}, bufferedBytes ${rig.decoder.bufferedBytes}`,
      'three lines, "first", "" and "second" (without their newlines), and bufferedBytes 4 for the unfinished "part"',
      'A stream has no edges',
    );
    rig.push(utf8('ial\n'));
    checkRig(rig.out[3] === 'partial' && rig.held() === 0, rig, `then it delivered ${showLines(rig.out.slice(3))}`, 'the line "partial", and bufferedBytes 0', 'Lines of UTF-8 text');
  });

  it('decodes a UTF-8 character split across chunks', () => {
    for (const ch of ['é', '€', EMOJI]) {
      const bytes = lineBytes(`<${ch}>`);
      for (let cut = 2; cut < bytes.length - 2; cut++) {
        const rig = lineRig();
        rig.run([bytes.subarray(0, cut), bytes.subarray(cut)]);
        checkRig(
          JSON.stringify(rig.out) === JSON.stringify([`<${ch}>`]) && rig.error === undefined,
          rig,
          `with the line cut after byte ${cut}, inside the ${utf8(ch).length}-byte character ${ch}, it delivered ${showLines(rig.out)}${rig.error === undefined ? '' : ` and threw ${thrown(rig.error)}`}`,
          `the line "<${ch}>": decode whole lines (or use a streaming TextDecoder), never each chunk on its own, or a split character turns into U+FFFD`,
          'A character split across chunks',
        );
      }
    }
  });

  it('keeps every byte but the newline, \\r and a byte-order mark included', () => {
    const rig = lineRig();
    const text = `\uFEFF\r\t\0 ÿ€${EMOJI} \r`;
    rig.run([utf8(`${text}\n`)]);
    checkRig(rig.out.length === 1 && rig.out[0] === text && rig.error === undefined, rig, `it delivered ${showLines(rig.out)}`, `one line, ${JSON.stringify(text)}, starting with the byte-order mark ef bb bf: only the byte 0a ends a line, and nothing else is dropped`, 'Lines of UTF-8 text');
  });

  it('refuses a line that is not valid UTF-8', () => {
    for (const bad of [bytesOf(0xff), bytesOf(0x80), bytesOf(0xc0, 0x80), bytesOf(0xed, 0xa0, 0x80), bytesOf(0xe2, 0x82)]) {
      const rig = lineRig();
      const e = rig.run([concat([utf8('ok\nx'), bad, bytesOf(0x0a)])]);
      const again = [rig.push(utf8('more\n')), rig.end()];
      checkRig(
        isError(e, InvalidUtf8Error, 'ERR_INVALID_UTF8') && rig.out.length === 1 && rig.out[0] === 'ok' && again.every((x) => x === e),
        rig,
        `for the line x ${hexBytes(bad)} it ${e === undefined ? `delivered ${showLines(rig.out)}` : `threw ${thrown(e)}, delivered ${showLines(rig.out)}, then push() and end() ${again.map((x) => (x === e ? 'threw the same error' : x === undefined ? 'worked' : `threw ${thrown(x)}`)).join(' and ')}`}`,
        'the line "ok", then InvalidUtf8Error (ERR_INVALID_UTF8), and the same error from every later push() and end(): a decoder that replaces bad bytes with U+FFFD hides broken or hostile input, and one that carries on has lost its place',
        'Lines of UTF-8 text',
      );
    }
  });

  it('counts the line limit in bytes, not characters', () => {
    const ok = lineRig({ maxLineBytes: 8 });
    ok.run([utf8(`${EMOJI}${EMOJI}\n`)]);
    const over = lineRig({ maxLineBytes: 7 });
    const e = over.run([utf8(`${EMOJI}${EMOJI}\n`)]);
    checkRig(
      ok.error === undefined && ok.out[0] === EMOJI + EMOJI && isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (e as FrameTooLargeError).limit === 7 && over.out.length === 0,
      over,
      `'${EMOJI}${EMOJI}' (8 bytes, length 4) with maxLineBytes 8: ${ok.error === undefined ? showLines(ok.out) : thrown(ok.error)}; with maxLineBytes 7: ${e === undefined ? showLines(over.out) : thrown(e)}`,
      'accepted under a limit of 8 bytes, FrameTooLargeError (limit 7) under a limit of 7',
      'Lengths count bytes',
    );
  });

  it('refuses a line longer than the limit without buffering past it', () => {
    // Exactly the limit is fine, however it arrives.
    const exact = lineRig({ maxLineBytes: 8 });
    exact.run([utf8('abcdefgh'), utf8('\n')]);
    checkRig(exact.out[0] === 'abcdefgh' && exact.error === undefined, exact, `a line of exactly 8 bytes (limit 8) gave ${exact.error === undefined ? showLines(exact.out) : thrown(exact.error)}`, 'the line "abcdefgh"', 'Limits are a defence');
    for (const chunks of [[utf8('abcdefgh'), utf8('i')], [utf8('abcd'), utf8('efghijklmnopqrstuvwxyz')], [seq(0x61, 1000)]]) {
      const rig = lineRig({ maxLineBytes: 8 });
      let most = 0;
      let e: unknown;
      for (const c of chunks) {
        e ??= rig.push(c);
        most = Math.max(most, rig.decoder.bufferedBytes);
      }
      const total = chunks.reduce((n, c) => n + c.length, 0);
      checkRig(
        isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (e as FrameTooLargeError).limit === 8 && (e as FrameTooLargeError).size > 8 && (e as FrameTooLargeError).size <= total && most <= 8,
        rig,
        `for ${describePieces(chunks)} without a newline (limit 8) it ${e === undefined ? 'threw nothing' : `threw ${thrown(e)} ${JSON.stringify(e)}`}, and bufferedBytes reached ${most}`,
        `FrameTooLargeError (limit 8, size the bytes seen, more than 8) as soon as the line passes 8 bytes, with bufferedBytes never above 8: a line that can only be too long is refused before it is kept`,
        'Limits are a defence',
      );
    }
    const d = new LineDecoder(() => {});
    const big = lineRig();
    const e = big.push(new Uint8Array(DEFAULT_MAX_LINE_BYTES + 1).fill(0x61));
    const given = new LineDecoder(() => {}, { maxLineBytes: 9 }).maxLineBytes;
    check(d.maxLineBytes === DEFAULT_MAX_LINE_BYTES && given === 9 && isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && (e as FrameTooLargeError).limit === DEFAULT_MAX_LINE_BYTES, {
      did: `with no options, maxLineBytes was ${d.maxLineBytes} and a line of ${DEFAULT_MAX_LINE_BYTES + 1} bytes ${e === undefined ? 'was kept' : `threw ${thrown(e)}`}; with { maxLineBytes: 9 } it was ${given}`,
      expected: `DEFAULT_MAX_LINE_BYTES (${DEFAULT_MAX_LINE_BYTES}) by default and FrameTooLargeError for a longer line; 9 when given`,
      lesson: lesson('Limits are a defence'),
    });
  });

  it('delivers the lines before a bad one, then stays failed', () => {
    const rig = lineRig({ maxLineBytes: 4 });
    const e = rig.push(utf8('ok\n\ntoo long\nlater\n'));
    const again = [rig.push(utf8('more\n')), rig.end()];
    checkRig(
      JSON.stringify(rig.out) === JSON.stringify(['ok', '']) && isError(e, FrameTooLargeError, 'ERR_FRAME_TOO_LARGE') && again.every((x) => x === e),
      rig,
      `it delivered ${showLines(rig.out)}, threw ${e === undefined ? 'nothing' : thrown(e)}, then later push() and end() ${again.map((x) => (x === e ? 'threw the same error' : x === undefined ? 'worked' : `threw ${thrown(x)}`)).join(' and ')}`,
      'the lines "ok" and "" first, then FrameTooLargeError, and from then on every push() and end() throws that same error object',
      'After an error, stop',
    );
  });

  it('end of stream in the middle of a line is an error', () => {
    const rig = lineRig();
    const e = rig.run([utf8('whole\nhal'), bytesOf(0xe2, 0x82)]);
    const again = [rig.push(utf8('more\n')), rig.end()];
    checkRig(
      isError(e, TruncatedFrameError, 'ERR_TRUNCATED_FRAME') && (e as TruncatedFrameError).bufferedBytes === 5 && rig.out.length === 1 && rig.out[0] === 'whole' && again.every((x) => x === e),
      rig,
      `when the stream ended after "whole\\n" and 5 bytes of another line, end() ${e === undefined ? 'returned quietly' : `threw ${thrown(e)} ${JSON.stringify(e)}, then push() and end() ${again.map((x) => (x === e ? 'threw the same error' : x === undefined ? 'worked' : `threw ${thrown(x)}`)).join(' and ')}`}`,
      'the line "whole", then TruncatedFrameError (ERR_TRUNCATED_FRAME) with bufferedBytes 5, and the same error from every later push() and end(): a line is complete only with its newline',
      'When the stream ends',
    );
    const clean = lineRig();
    const none = clean.run([lineBytes('a', '')]);
    checkRig(none === undefined, clean, `end() after whole lines threw ${thrown(none)}`, 'nothing: the stream ended between lines', 'When the stream ends');
  });

  it('keeps its own copy of an unfinished line: the caller may reuse its chunk', () => {
    const rig = lineRig();
    const text = `reuse ${EMOJI} safely`;
    const bytes = lineBytes(text);
    for (const [from, to] of [[0, 5], [5, 8], [8, bytes.length]] as const) {
      const chunk = bufferView(bytes.subarray(from, to), 2);
      rig.push(chunk);
      chunk.fill(0x41);
    }
    checkRig(rig.out[0] === text && rig.error === undefined, rig, `after the caller overwrote each chunk once push() returned, it delivered ${showLines(rig.out)}`, `the line ${JSON.stringify(text)}: copy what you keep between chunks`, 'Copies, not views');
  });

  it('refuses a bad limit', () => {
    for (const bad of [-1, 0.5, Number.NaN, LARGEST_LENGTH + 1]) {
      const e = errorOf(() => new LineDecoder(() => {}, { maxLineBytes: bad }));
      check(isError(e, BadLimitError, 'ERR_BAD_LIMIT') && Object.is((e as BadLimitError).limit, bad), {
        did: `new LineDecoder(onLine, { maxLineBytes: ${bad} }) ${e === undefined ? 'was accepted' : `threw ${thrown(e)}`}`,
        expected: `BadLimitError (ERR_BAD_LIMIT) with limit ${bad}`,
        lesson: lesson('Limits are a defence'),
      });
    }
    const zero = lineRig({ maxLineBytes: 0 });
    zero.run([utf8('\n\n')]);
    checkRig(zero.out.length === 2 && zero.error === undefined, zero, `with maxLineBytes 0, "\\n\\n" gave ${zero.error === undefined ? showLines(zero.out) : thrown(zero.error)}`, 'two empty lines: 0 allows only empty lines', 'Limits are a defence');
  });
});

// ---------------------------------------------------------------------------------------------
// Any split of the stream
// ---------------------------------------------------------------------------------------------

/** Random frames: up to 8, each up to 40 bytes of any value, empty ones included. */
const randomFrames = fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { maxLength: 8 });
/** Random lines of any Unicode text (no newline in them), empty ones included. */
const randomLines = fc.array(fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replaceAll('\n', ' ')), { maxLength: 8 });

/** Decode `chunks` with a fresh rig and compare with `want`; fails with the split named. */
/** A frame's bytes or a line's text, in a form that compares equal whatever class holds the bytes. */
function comparable(x: unknown): string {
  return x instanceof Uint8Array ? Array.from(x).join(',') : String(x);
}

function decodesTo<T>(makeRig: () => Rig<T>, chunks: Uint8Array[], label: string, want: T[], show: (xs: T[]) => string): void {
  const rig = makeRig();
  rig.run(chunks);
  checkRig(
    // Frames compare by their bytes (a Buffer or a plain Uint8Array alike), lines as strings.
    rig.error === undefined && JSON.stringify(rig.out.map(comparable)) === JSON.stringify(want.map(comparable)),
    rig,
    `with the stream delivered ${label}, it ${rig.error === undefined ? `delivered ${show(rig.out)}` : `threw ${thrown(rig.error)} after ${show(rig.out)}`}`,
    `${show(want)}, whatever the chunks: TCP may cut the stream anywhere`,
    'A stream has no edges',
  );
}

describe('any split of the stream gives the same frames', () => {
  it('length-prefixed frames: one byte at a time, at every cut, in random pieces, all at once', () => {
    const bytes = frameBytes(...MIXED);
    for (const { label, chunks } of everySplit(bytes)) decodesTo(() => frameRig(), chunks, label, MIXED, showFrames);
  });

  it('lines: one byte at a time, at every cut, in random pieces, all at once', () => {
    const bytes = lineBytes(...LINES);
    for (const { label, chunks } of everySplit(bytes)) decodesTo(() => lineRig(), chunks, label, LINES, showLines);
  });

  it('property: random frames, cut anywhere, come out whole', () => {
    forAllSync(
      randomFrames.chain((frames) => pieces(frameBytes(...frames)).map((chunks) => ({ frames, chunks }))),
      ({ frames, chunks }) => {
        decodesTo(() => frameRig(), chunks, `in pieces of ${describePieces(chunks)}`, frames, showFrames);
        const bytes = frameBytes(...frames);
        decodesTo(() => frameRig(), [bytes], 'all in one chunk', frames, showFrames);
        if (bytes.length > 1) decodesTo(() => frameRig(), Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)), 'one byte at a time', frames, showFrames);
      },
      { numRuns: 60, show: ({ frames, chunks }) => `${showFrames(frames)} in pieces of ${describePieces(chunks)}` },
    );
  });

  it('property: random lines of any Unicode text, cut anywhere, come out whole', () => {
    forAllSync(
      randomLines.chain((lines) => pieces(lineBytes(...lines)).map((chunks) => ({ lines, chunks }))),
      ({ lines, chunks }) => {
        decodesTo(() => lineRig(), chunks, `in pieces of ${describePieces(chunks)}`, lines, showLines);
        const bytes = lineBytes(...lines);
        if (bytes.length > 1) decodesTo(() => lineRig(), Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)), 'one byte at a time', lines, showLines);
      },
      { numRuns: 60, show: ({ lines, chunks }) => `${showLines(lines)} in pieces of ${describePieces(chunks)}` },
    );
  });

  it('property: your encoders and your decoders agree', () => {
    forAllSync(
      fc.record({ frames: randomFrames, lines: randomLines }),
      ({ frames, lines }) => {
        const framed = concat(frames.map((f) => encodeFrame(f)));
        check(same(framed, frameBytes(...frames)), { did: `encodeFrame gave ${hexBytes(framed, 24)}`, expected: hexBytes(frameBytes(...frames), 24), lesson: lesson('Length-prefixed frames') });
        decodesTo(() => frameRig(), [framed], 'as encodeFrame wrote it', frames, showFrames);
        const text = concat(lines.map((l) => encodeLine(l)));
        decodesTo(() => lineRig(), [text], 'as encodeLine wrote it', lines, showLines);
      },
      { numRuns: 40 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Over a real socket
// ---------------------------------------------------------------------------------------------

describe('over a real socket', () => {
  it('frames from a peer writing one byte at a time, and from one coalescing its writes', async () => {
    const many = Array.from({ length: 200 }, (_, i) => seq(i, i % 7 === 0 ? 0 : i % 50));
    for (const [writer, frames] of [['one byte at a time', MIXED], ['coalesced', many]] as const) {
      const got = await overSocket(frameBytes(...frames), writer, () => frameRig());
      checkRig(
        got.error === undefined && sameFrames(got.out, frames),
        got.rig,
        `a real node:net peer wrote ${frames.length} frames ${writer}; 'data' gave your decoder ${showChunks(got.chunks)}; it ${got.error === undefined ? `delivered ${showFrames(got.out)}` : `threw ${thrown(got.error)}`}`,
        `${showFrames(frames)}: one 'data' event is not one message`,
        'A stream has no edges',
      );
    }
  });

  it('lines from a peer writing one byte at a time, and from one coalescing its writes', async () => {
    const many = Array.from({ length: 200 }, (_, i) => `${i} ${EMOJI.repeat(i % 5)}é`);
    for (const [writer, lines] of [['one byte at a time', LINES], ['coalesced', many]] as const) {
      const got = await overSocket(lineBytes(...lines), writer, () => lineRig());
      checkRig(
        got.error === undefined && JSON.stringify(got.out) === JSON.stringify(lines),
        got.rig,
        `a real node:net peer wrote ${lines.length} lines ${writer}; 'data' gave your decoder ${showChunks(got.chunks)}; it ${got.error === undefined ? `delivered ${showLines(got.out)}` : `threw ${thrown(got.error)}`}`,
        `${showLines(lines)}: every character whole, however the bytes were cut`,
        'A character split across chunks',
      );
    }
  });

  it('property: random frames over a real socket, byte by byte and coalesced', async () => {
    await forAll(
      fc.record({ frames: randomFrames, writer: fc.constantFrom<'one byte at a time' | 'coalesced'>('one byte at a time', 'coalesced') }),
      async ({ frames, writer }) => {
        const got = await overSocket(frameBytes(...frames), writer, () => frameRig());
        checkRig(
          got.error === undefined && sameFrames(got.out, frames),
          got.rig,
          `over a real socket, written ${writer} and received as ${showChunks(got.chunks)}, it ${got.error === undefined ? `delivered ${showFrames(got.out)}` : `threw ${thrown(got.error)}`}`,
          showFrames(frames),
          'A stream has no edges',
        );
      },
      { numRuns: 6, noShrink: true, show: ({ frames, writer }) => `${showFrames(frames)} written ${writer}` },
    );
  });

  it('a frame larger than a socket read arrives whole', async () => {
    const body = seq(0x33, 300_000);
    const got = await overSocket(frameBytes(body, 'after'), 'coalesced', () => frameRig());
    checkRig(
      got.error === undefined && sameFrames(got.out, [body, utf8('after')]),
      got.rig,
      `a 300 000-byte frame and a small one arrived as ${showChunks(got.chunks)}; your decoder ${got.error === undefined ? `delivered ${showFrames(got.out)}` : `threw ${thrown(got.error)}`}`,
      'the 300 000-byte frame, byte for byte, then "after"',
      'A decoder is a state machine',
    );
  });
});

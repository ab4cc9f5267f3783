/**
 * THE chapter manifest: the one ordered list of chapters that the CLI, the site,
 * the self-check and the grader all read. Nothing finds chapters by scanning folders.
 *
 * Adding a chapter? See CONTRIBUTING.md ("Adding a chapter").
 */

/** A known-wrong solution that the chapter's suite must reject. */
export interface Mistake {
  /** The patch's name: tests/mistakes/<chapter id>/<name>.patch, a unified diff against solutions/<chapter id>/. */
  name: string;
  /** The classic mistake in one learner-facing sentence. */
  what: string;
  /** A fragment of the name of the test that must catch it (the test named for the concept). */
  caughtBy: string;
}

/** One chapter of the workbook. */
export interface Chapter {
  /** Directory name under chapters/, solutions/ and tests/mistakes/, e.g. "04-sockets". */
  id: string;
  /** Chapter number as shown to learners. */
  number: number;
  /** Short name a learner can type, e.g. "sockets". */
  slug: string;
  /** Title as shown in the CLI and on the site. */
  title: string;
  /** Which part of the story (see `parts`). */
  part: 1 | 2 | 3;
  /** One sentence: what the learner builds. */
  summary: string;
  /** Points for grading; split evenly over the suite's top-level describe blocks. */
  points: number;
  /** The files the learner edits, relative to the chapter directory. The first is the main one. */
  files: string[];
  /** Progressive hints, gentlest first (markdown). */
  hints: string[];
  /** Known-mistake variants, each shipped as a patch tests/mistakes/<id>/<name>.patch. */
  mistakes: Mistake[];
  /**
   * Programs some tests talk to when they are installed (keys of `peerPrograms`); a test that needs a
   * missing one skips with the program's install hint. The self-check fails when a suite calls
   * `needPeer` for a program not listed here.
   */
  peers?: PeerName[];
}

/** A real program that tests use when it is installed, and how to get it. */
export interface PeerProgram {
  /** What the workbook uses it for. */
  why: string;
  /** How to install it, on Debian/Ubuntu and on macOS. */
  install: string;
}

/** Every optional peer program, with its install hint. `doctor` lists these; `needPeer` prints the hint. */
export const peerPrograms = {
  curl: { why: 'an HTTP peer in the socket and web chapters', install: 'sudo apt-get install curl   (macOS: brew install curl)' },
  nc: { why: 'a raw socket peer in the socket chapters', install: 'sudo apt-get install netcat-openbsd   (macOS: built in)' },
  chromium: { why: 'a real browser for the site and WebSocket tests', install: 'sudo apt-get install chromium   (macOS: brew install --cask chromium)' },
  openssl: { why: 'certificates and a TLS peer in the TLS chapter', install: 'sudo apt-get install openssl   (macOS: brew install openssl)' },
  nft: { why: 'a real kernel firewall (nftables) in the firewall chapter; needs root', install: 'sudo apt-get install nftables   (Linux only)' },
  ip: { why: 'network namespaces and a veth pair for the real-firewall tests; needs root', install: 'sudo apt-get install iproute2   (Linux only)' },
} satisfies Record<string, PeerProgram>;

/** The name of a known peer program. */
export type PeerName = keyof typeof peerPrograms;

/** The sections every lesson has, by their exact `##` heading text. */
export const lessonSections = {
  /** What to build; the site puts the exercise box at its end. */
  exercise: 'The exercise',
  /** Links to the sources the lesson builds on. */
  furtherReading: 'Further reading',
} as const;

/** The container that opens every lesson with the story's beat. */
export const STORY_CONTAINER = '::: story';

/** The parts of the story, in order. */
export const parts = [
  { number: 1, title: 'One machine' },
  { number: 2, title: 'Talking in messages' },
  { number: 3, title: 'The web' },
] as const;

/** Every chapter, in learning order. */
export const chapters: Chapter[] = [
  {
    id: '01-shared-memory',
    number: 1,
    slug: 'shared-memory',
    title: 'Notes in shared memory',
    part: 1,
    summary: 'A ring buffer of length-prefixed messages inside a SharedArrayBuffer, shared by two threads.',
    points: 10,
    files: ['exercise.ts'],
    hints: [
      'Which two numbers tell full from empty? Keep `write` and `read` as running totals of bytes ever written and read, never reset. Then `used = (write - read) >>> 0` is 0 when empty and `capacity` when full, even though both counters then point at the same position.',
      'Write `copyIn` and `copyOut` first. The position is `counter & (capacity - 1)`. Copy `Math.min(n, capacity - position)` bytes there and the rest from position 0. Use the same two helpers for the 4-byte length prefix and for the payload, and wraparound is handled everywhere.',
      'Order is everything. `trySend`: check room, copy prefix and bytes in, `Atomics.store` the new write counter, then `Atomics.notify` it. `tryReceive`: `Atomics.load` the write counter, copy the message out into a new array, `Atomics.store` the new read counter, then `Atomics.notify` it.',
      'A blocking call is a loop. Compute `deadline` once. Each round: `seen = Atomics.load(control, slot)`, then try. If that fails, `remaining = deadline - performance.now()`; throw `ChannelTimeoutError` when it is `<= 0`, else `Atomics.wait(control, slot, seen, remaining)` and go round again. `receiveAsync` is the same loop in an `async` method: `const r = waitAsync(...); if (r.async) await r.value;`.',
      '`postMessage` copies ordinary memory but shares a `SharedArrayBuffer`. `postCopy`: post `note.slice()`, a new ordinary copy of just those bytes. `postShared`: make `new Uint8Array(new SharedArrayBuffer(note.length))`, `set` the note into it, post it and return it.',
    ],
    mistakes: [
      { name: 'no-atomics', what: 'Plain reads and writes of the counters and no `Atomics.notify`: a receiver asleep in `Atomics.wait` is never woken by a send.', caughtBy: 'is woken by a send' },
      { name: 'full-and-empty-confused', what: 'Storing wrapped positions instead of free-running counters: when the ring is exactly full, write == read, just as when it is empty.', caughtBy: 'tells a full ring from an empty one' },
      { name: 'no-wraparound-split', what: 'Copying each message in one piece: a message that runs past the end of the buffer is not split and continued at the front.', caughtBy: 'wraps messages around the end of the buffer' },
      { name: 'notify-before-publish', what: 'Calling `Atomics.notify` before storing the new write counter: a receiver woken in between finds nothing and sleeps again (a lost wake-up).', caughtBy: 'publishes the message before notifying' },
      { name: 'receive-returns-view', what: '`tryReceive` returns a view into the ring instead of a copy: the sender reuses those bytes and the received message changes.', caughtBy: 'hands out a copy' },
      { name: 'copy-shares-shared-memory', what: '`postCopy` posts the note as it is: a note that lives in a `SharedArrayBuffer` is shared, not copied.', caughtBy: 'postMessage is a copy' },
      { name: 'timeout-restarts-on-wake', what: 'Every `Atomics.wait` gets the full `timeoutMs` instead of the time left: each wake-up that brings nothing starts the clock over, so the call overruns its deadline.', caughtBy: 'still ends at its deadline' },
      { name: 'send-ignores-view-offset', what: '`trySend` copies from byte 0 of `message.buffer` instead of from the view\'s `byteOffset`: a message that is a `subarray` or a pooled `Buffer` arrives as the wrong bytes.', caughtBy: 'copies a message given as a view' },
    ],
  },
  {
    id: '02-addresses-and-ports',
    number: 2,
    slug: 'addresses-and-ports',
    title: 'Finding each other',
    part: 1,
    summary: 'Parse and format IPv4, IPv6 and endpoints, match CIDR prefixes, and route segments to connections by 4-tuple.',
    points: 10,
    files: ['exercise.ts'],
    hints: [
      'Parse IPv4 one character at a time and keep a little state: the value of the current part, how many digits it has, and how many parts are done. Then ask what each character means *in that state*: when is a `0` a leading zero, and when may a `.` appear?',
      'JavaScript\'s `|` and `<<` return **signed** 32-bit numbers, so finish with `>>> 0` (or use `* 256 +`). Shift counts are taken mod 32, so `0xffffffff << 32` is `0xffffffff`: give `prefixMask(0)` its own case. Write bytes with `new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)`; it is big-endian unless you pass `true`.',
      'For IPv6 text, `split(\'::\')` once (more than two halves is an error), split each half on `:`, and read each piece as 1-4 hex digits; only the very last piece may be a dotted quad (two groups). Without `::` you need exactly 8 groups; with it at most 7. To print, scan the 8 groups once for runs of zeros and keep a run only if it is **strictly longer** than the best so far and at least 2 long.',
      'For `inPrefix`, compare the families, then the address as 32-bit words: word `i` gets `prefixMask(Math.min(32, Math.max(0, length - 32 * i)))`, and it matches when `((a ^ b) & mask) === 0`. For endpoints: a leading `[` means IPv6 up to `]`, then `:port`; without `[`, a second `:` means an unbracketed IPv6 address, so refuse it.',
      'Build every key from canonical text: `connectionKey` can be `formatEndpoint(local) + \' \' + formatEndpoint(remote)`. In `route`, the segment\'s destination is your *local* end: look up `connectionKey({ local: destination, remote: source })`, then a listener on `formatEndpoint(destination)`, then one on `0.0.0.0` or `::` with the same port; otherwise `{ kind: \'dropped\' }`.',
    ],
    mistakes: [
      { name: 'signed-32-bit', what: 'Builds the address with `<<` and `|` but never applies `>>> 0`, so 255.255.255.255 comes out as -1.', caughtBy: 'reads 255.255.255.255 as 4294967295' },
      { name: 'shift-by-32-mask', what: 'Computes the mask as `0xffffffff << (32 - bits)`; JavaScript shifts mod 32, so the /0 mask comes out all ones.', caughtBy: 'the /0 and /32 masks' },
      { name: 'regex-only-ipv4', what: 'Checks dotted quads with a `\\d{1,3}` regex, which lets 256.1.1.1 through.', caughtBy: 'rejects out-of-range octets' },
      { name: 'no-brackets-endpoint', what: 'Splits endpoints at the last colon and ignores brackets, so `::1:443` is accepted and IPv6 endpoints print without brackets.', caughtBy: 'needs brackets around IPv6 addresses' },
      { name: 'first-zero-run', what: 'Compresses the first run of zero groups with `::` instead of the longest.', caughtBy: 'compresses the longest run of zero groups' },
      { name: 'little-endian-bytes', what: 'Writes the address bytes little-endian (the CPU\'s order) instead of network byte order.', caughtBy: 'network byte order' },
      { name: 'key-without-remote-port', what: 'Leaves the remote port out of the connection key, so two connections from one client host collide.', caughtBy: 'same server port distinct keys' },
      { name: 'demux-swapped-ends', what: 'Looks connections up with the segment\'s source as the local end instead of its destination.', caughtBy: 'connection whose 4-tuple matches' },
    ],
  },
  {
    id: '03-packets',
    number: 3,
    slug: 'packets',
    title: 'Packets and encapsulation',
    part: 1,
    summary: 'The Internet checksum, and IPv4, UDP and TCP headers encoded, decoded and nested.',
    points: 10,
    files: ['exercise.ts'],
    hints: [
      'Every function walks one of the lesson\'s header diagrams. Before coding, write down the byte offset of each field, and which fields share a byte: Version/IHL, DSCP/ECN, flags/Fragment Offset, Data Offset/reserved. Start with the checksum: the RFC 1071 example is the first test.',
      'Checksum: add the 16-bit words `(b[i] << 8) | b[i + 1]` into a plain number (an odd last byte counts as `b[i] << 8`), then fold until it fits: `while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000)`. To verify, do not cut the checksum field out: sum everything and compare with `0xffff`. For UDP and TCP, start from `pseudoHeaderSum(...)` through the `initial` argument.',
      'One view per buffer: `new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)`, and never pass `true` (little-endian). Lengths count 32-bit words: `(view.getUint8(0) & 0x0f) * 4` for IPv4, `(view.getUint8(12) >> 4) * 4` for TCP. Check each length before you read the bytes it covers, in the order of the lesson\'s list, and throw the typed error for the first check that fails.',
      'An encoder: check every range (`FieldRangeError`); `const out = new Uint8Array(headerLength + payload.length)`; write the fields with the checksum still zero; `out.set(options, 20)`; `out.set(payload, headerLength)`; then write `internetChecksum(...)` of the covered bytes (UDP/TCP: `internetChecksum(out, pseudoHeaderSum(addresses, protocol, out.length))`, and UDP sends a 0 as `0xffff`). `unwrapUdp` is `decodeIPv4`, a protocol check, then `decodeUdp(payload, ipHeader)`: the IPv4 header already has `source` and `destination`.',
    ],
    mistakes: [
      { name: 'no-carry-fold', what: 'Dropping the carry out of bit 15 instead of adding it back at bit 0 (the end-around carry).', caughtBy: 'folds the end-around carry' },
      { name: 'little-endian-writes', what: 'Writing multi-byte fields little-endian (`setUint16(offset, value, true)`) instead of network byte order.', caughtBy: 'writes multi-byte fields big-endian' },
      { name: 'ihl-in-bytes', what: 'Taking IHL as a number of bytes instead of 32-bit words when splitting header from payload.', caughtBy: 'reads IHL in 32-bit words' },
      { name: 'checksum-payload-only', what: 'Computing the UDP checksum over the payload alone, without the pseudo-header and the UDP header.', caughtBy: 'computes the UDP checksum over the pseudo-header' },
      { name: 'tcp-data-offset-in-bytes', what: 'Taking the TCP Data Offset as a number of bytes instead of 32-bit words.', caughtBy: 'reads the data offset in 32-bit words' },
      { name: 'dataview-ignores-byteoffset', what: 'Building the DataView over the whole ArrayBuffer (`new DataView(bytes.buffer)`), ignoring the Uint8Array\'s byteOffset.', caughtBy: 'sits at an offset inside a larger buffer' },
    ],
  },
  {
    id: '04-sockets',
    number: 4,
    slug: 'sockets',
    title: "The socket's lifecycle",
    part: 1,
    summary: 'An echo server that tracks its connections by 4-tuple and closes cleanly, over TCP and a Unix socket.',
    points: 10,
    files: ['exercise.ts'],
    hints: [
      "Start with `start()`: `net.createServer(...)`, then `server.listen({ host, port })` or `server.listen({ path })`. Port 0 means \"any free port\", so report the port from `server.address()` once the listen callback runs. Which operator keeps 0 as 0, `||` or `??`?",
      "A `'data'` event is whatever bytes have arrived, not a message. Keep the pending pieces of each connection in an array. Only the new chunk can hold a new newline, so look there: `cut = chunk.lastIndexOf(NEWLINE) + 1`. When `cut > 0`, write `Buffer.concat([...pending, chunk.subarray(0, cut)])` (one join per line, not per chunk) and keep `chunk.subarray(cut)`. Never `end()` from the `'data'` handler, and write only while `socket.writable`.",
      "The client's FIN arrives as `'end'`. Create the server with `{ allowHalfOpen: true }` and, on `'end'`, call `socket.end(Buffer.concat(pending))`: the leftover bytes, then your own FIN (unless `close()` has ended your side already). The client mirrors it: `socket.end(bytes)` on `'connect'`, collect every `'data'`, resolve on `'end'`.",
      "Track connections in a `Map` keyed by `tupleKey(fourTupleOf(socket))` (a counter for Unix sockets), computed on accept and deleted on `'close'`, and give each accepted socket an `'error'` listener. In `close()`: `server.close(cb)`, `socket.end()` on each, a `setTimeout` that `destroy()`s the rest after `closeGraceMs`, then await the callback and every socket's `'close'`, and clear the timer.",
      "Keep the kernel's code when you wrap errors: until `'listening'`, `server.once('error', (err) => reject(new ListenError(errorCode(err), describeAddress(wanted), { cause: err })))`. In `sendAndReceive`, `ConnectError` before `'connect'`, `SocketError` after, and `socket.setTimeout(ms, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))`.",
    ],
    mistakes: [
      { name: 'closes-on-first-data', what: "Treats the first 'data' event as the whole message: echoes it and ends the connection.", caughtBy: 'keeps the connection open after the first piece' },
      { name: 'ignores-half-close', what: "Ignores the client's FIN (no allowHalfOpen, no 'end' handler), so the unfinished last line is never echoed.", caughtBy: 'half-closes still receives its echo' },
      { name: 'close-without-ending', what: 'close() only calls server.close(), which waits forever for the connections it never ends.', caughtBy: 'ends every live connection' },
      { name: 'hard-coded-port', what: '`port || 4004` turns port 0 into a fixed port, so a second server fails with EADDRINUSE.', caughtBy: 'two servers on port 0 at the same time both start' },
      { name: 'binds-all-interfaces', what: 'Binds 0.0.0.0 by default, which any machine on the network can reach.', caughtBy: 'binds loopback' },
      { name: 'client-stops-at-first-data', what: "sendAndReceive resolves with the first 'data' chunk instead of waiting for the server's FIN.", caughtBy: 'collects the whole reply' },
      { name: 'no-error-listener', what: "No 'error' listener on accepted sockets: the first client that resets its connection crashes the whole server.", caughtBy: 'resets its connection does not take the server down' },
      { name: 'writes-after-end', what: "echoLines writes whatever arrives even after close() has ended our side: a write after end() is an error.", caughtBy: 'echoLines writes nothing once our side has ended' },
      { name: 'grace-timer-not-cleared', what: 'close() never clears its grace timer, which keeps the process alive for closeGraceMs after everything has closed.', caughtBy: 'close() leaves no open handle behind' },
    ],
    peers: ['nc', 'curl'],
  },
  {
    id: '05-datagrams',
    number: 5,
    slug: 'datagrams',
    title: 'Datagrams without promises',
    part: 1,
    summary: 'A UDP echo server and a pinger that measures RTT and loss, and never credits a late pong.',
    points: 10,
    files: ['exercise.ts'],
    hints: [
      'Start with the echo server: in `\'message\'` you get the datagram *and* `rinfo`, the sender\'s address and port. Where should the same bytes go?',
      'A pong can only be matched by what it carries: parse the number out of it with `decodePong`, and keep a `Map` from sequence number to "when it was sent" for the pings still waiting. A pong whose number is not in that map was never waited for: is its ping already answered (duplicate), already timed out (late), or unknown (stray)?',
      'Nothing ever tells you a datagram was lost, so give every ping its own timer when you send it: `setTimeout(() => timeOut(seq), timeoutMs)`. Keep the handle in the waiting entry, clear it when the pong arrives, and on timeout delete the entry and record `{ seq, status: \'timeout\' }` for good.',
      'Shape of `run()`: check the options (else `return Promise.reject(new PingRangeError(\'count\', count, ...))`), create the socket, then `return new Promise(...)` in which `sendPing()` sends `encodePing(++sent)`, arms that ping\'s timer, and schedules the next `sendPing` after `intervalMs` while `sent < count`. After every pong and every timeout, call `finishIfDone()`: when `sent === count` and nothing is waiting, clear the timers, `socket.close()`, and resolve the report with the results sorted by `seq`. A socket `\'error\'` does the same cleanup, then rejects.',
    ],
    mistakes: [
      {
        name: 'match-by-arrival-order',
        what: 'Pongs are matched by arrival order (each one credited to the oldest waiting ping), not by the sequence number they carry.',
        caughtBy: 'out of order by sequence number',
      },
      {
        name: 'no-timeout',
        what: 'No timeout: the pinger waits for every pong, so a single lost datagram makes it wait forever.',
        caughtBy: 'counts lost pings',
      },
      {
        name: 'shared-timer',
        what: "One timer shared by all pings, restarted at every send: early pings get more than their timeout, so a pong past its ping's deadline is still credited.",
        caughtBy: 'its own timeout',
      },
      {
        name: 'late-reply-credited',
        what: 'A pong that arrives after its ping timed out is still credited to that ping, as if the timeout were not final.',
        caughtBy: 'ignores a late reply',
      },
      {
        name: 'duplicate-counted-twice',
        what: 'A second copy of a pong is counted as another reply instead of as a duplicate.',
        caughtBy: 'counts a duplicate reply once',
      },
      {
        name: 'stop-and-wait',
        what: 'The next ping goes out only once the previous one has its pong or its timeout, instead of one every intervalMs.',
        caughtBy: 'sends a ping every intervalMs',
      },
      {
        name: 'echo-as-text',
        what: 'The echo server turns each datagram into a string and sends the string back, so bytes 0x80-0xff come back mangled.',
        caughtBy: 'any byte values, back as exactly those datagrams',
      },
    ],
    peers: ['nc'],
  },
  {
    id: '06-handshake',
    number: 6,
    slug: 'handshake',
    title: 'The slow handshake',
    part: 1,
    summary: 'A TCP connection state machine on a fake clock, and a delay proxy that shows what a handshake costs.',
    points: 10,
    files: ['exercise.ts', 'sequence.ts', 'delay-proxy.ts'],
    hints: [
      'Start with `sequence.ts`: the state machine compares sequence numbers everywhere. On a circle of 2^32 numbers, `a` comes before `b` when the step forward from `a` to `b` is short. What does `(a - b) | 0` give for `a = 1, b = 0xFFFFFFFF`? What does `>>> 0` do to `0xFFFFFFFF + 1`?',
      'For `unwrap`, do not search. Take the signed distance (`seqDiff`) from `wrap(checkpoint, isn)` to `seqno` and add it to the checkpoint as a bigint. One case is left: a result below 0, where one full turn up (`+ 2n ** 32n`) is the answer.',
      'Keep the TCB honest with one small helper per kind of segment you send: `sendSyn()` sets SND.NXT to ISS + 1, `sendFin()` adds 1 to SND.NXT, `sendAck()` sends `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, and learning the peer\'s ISN sets RCV.NXT to SEG.SEQ + 1. Every SYN or FIN, sent or taken, moves a number by one, and every addition goes through `seqAdd`.',
      'Write `receive()` the way RFC 9293 §3.10.7 reads: one method each for CLOSED, LISTEN and SYN-SENT, and one for every other state that checks in order (in the window? RST? SYN? the ACK field, then data and FIN) and returns as soon as a check drops the segment. Two cases go before those checks: the peer\'s SYN-ACK in SYN-RECEIVED after a simultaneous open, and a repeated FIN in TIME-WAIT.',
      'TIME-WAIT is `this.timer = this.clock.setTimeout(() => this.enterClosed(), 2 * this.msl)`, cleared with `this.clock.clearTimeout(this.timer)` when it restarts or the connection leaves the state. The proxy: `net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, onClient)`, where `onClient` waits `2 * delayMs`, then connects to the target, passes every \'data\' chunk and the \'end\' on in each direction with `setTimeout(..., delayMs)`, and calls `client.resume()`.',
    ],
    mistakes: [
      { name: 'plain-less-than', what: 'Sequence numbers compared with a plain `<`, so 0xFFFFFFFF counts as after 1.', caughtBy: '0xFFFFFFFF comes before 0x00000001' },
      { name: 'ack-without-plus-one', what: "The peer's SYN and FIN are acknowledged without the +1, as if they took no sequence number.", caughtBy: 'SYN and FIN each take up one sequence number' },
      { name: 'no-time-wait', what: 'TIME-WAIT is skipped: the connection goes straight to CLOSED instead of waiting 2*MSL.', caughtBy: 'TIME-WAIT lasts 2*MSL' },
      { name: 'real-timers', what: 'TIME-WAIT runs on the global setTimeout instead of the injected clock.', caughtBy: 'TIME-WAIT lasts 2*MSL on the injected clock' },
      { name: 'free-handshake', what: "The delay proxy relays a new connection at once, so the far leg's handshake round trip costs nothing.", caughtBy: 'charges a new connection one round trip' },
    ],
  },
  {
    id: '07-streams-and-backpressure',
    number: 7,
    slug: 'streams-and-backpressure',
    title: 'Queues on both ends',
    part: 1,
    summary: 'A bounded byte stream, and a TCP relay whose memory stays bounded between a fast sender and a slow reader.',
    points: 10,
    files: ['exercise.ts', 'relay.ts'],
    hints: [
      'Start with `ByteStream`. Which one number says how much a push may take: the capacity, or something smaller? Keep two running totals, bytes ever pushed and bytes ever popped, and `bytesBuffered` and `availableCapacity` follow from them.',
      'Keep the bytes in a ring: a `Uint8Array(capacity)` and the index `head` of the oldest byte. New bytes go at `(head + bytesBuffered) % capacity`, copied in at most two pieces with `ring.set(data.subarray(...), index)`: up to the end of the array, then the rest from 0. `peek` copies out the same way, and `pop` only moves `head`. `isFinished` is closed *and* empty. After `error()`, every method first throws `StreamErroredError` with the first reason.',
      "The relay is one small function used twice, `forward(a, b)` and `forward(b, a)`, both started at once. In it: on `'data'`, write the chunk to the other socket; when `write()` returns `false`, `pause()` the socket you read from; on the other socket's `'drain'`, `resume()` it. Keep no array of your own: the sockets' buffers are the only queues you need.",
      "Ends and failures. On `'end'`, call `to.end()`: it sends the FIN after the queued bytes, where `destroy()` would drop them. On `'close'`, a socket failed if `hadError` is true or it closed before `readableEnded && writableFinished`; then call `other.resetAndDestroy()` unless `other.destroyed`. Give both sockets an `'error'` listener. `stats()` returns your two counters and `a.readableLength + a.writableLength + b.readableLength + b.writableLength`.",
    ],
    mistakes: [
      { name: 'push-ignores-buffered', what: '`push` takes `min(data.length, capacity)`, forgetting the bytes already buffered: the stream holds more than its capacity and overwrites bytes not yet read.', caughtBy: 'never holds more than its capacity' },
      { name: 'push-returns-requested', what: '`push` stores only what fits but returns the length it was given, so the writer never sends the rest.', caughtBy: 'returns the accepted count' },
      { name: 'finished-before-drained', what: '`isFinished` is true as soon as the writer closes, so the reader stops before the last bytes.', caughtBy: 'reports the end to the reader only after the last byte' },
      { name: 'ignores-write-return', what: "The relay ignores `write()` returning `false` and never pauses the reader: everything a slow consumer has not taken piles up in `writableLength`.", caughtBy: 'keeps its buffered bytes under' },
      { name: 'unbounded-array-queue', what: "The relay keeps its own array of chunks and writes from it on `'drain'`, but never pauses the reader: the array grows as fast as the producer writes.", caughtBy: 'keeps its buffered bytes under' },
      { name: 'end-without-flush', what: "When one side ends, the relay closes the other with `destroy()` instead of `end()`, throwing away the bytes still queued for it.", caughtBy: 'flushes every buffered byte before passing the end on' },
      { name: 'error-passed-as-fin', what: 'On a failure the relay closes the other socket with `destroy()`, which sends a FIN: the far side takes a cut-off stream for a complete one.', caughtBy: 'passes a reset on as a reset' },
      { name: 'one-direction-at-a-time', what: 'The relay carries b to a only after a has ended (request, then response), so a conversation in which both sides talk at once stalls.', caughtBy: 'carries both directions at once' },
      { name: 'read-returns-view', what: '`read` returns a view of the ring instead of a copy, so bytes already handed to the reader change when later pushes reuse that part of the ring.', caughtBy: 'hands out copies' },
      { name: 'reset-only-on-error', what: "The relay passes a failure on only from `'error'`: a socket destroyed without an error (a timeout, a shutdown) leaves the other one open, talking into nothing.", caughtBy: 'closes without a clean end' },
      { name: 'drain-listener-per-pause', what: "The relay adds a new `on('drain')` listener at every pause and never removes one: the listeners pile up, one per pause.", caughtBy: 'keeps its buffered bytes under' },
    ],
  },
  {
    id: '08-reliable-delivery',
    number: 8,
    slug: 'reliable-delivery',
    title: 'Making datagrams reliable',
    part: 1,
    summary: 'A sliding-window protocol with RFC 6298 timers that delivers every byte once, in order, over a lossy channel.',
    points: 10,
    files: ['exercise.ts', 'segment.ts', 'rto.ts', 'receiver.ts', 'udp.ts'],
    hints: [
      'Go in the order of the lesson\'s exercise list: `segment.ts`, `rto.ts`, `receiver.ts`, then the sender in `exercise.ts`, and `udp.ts` last. Inside your objects, count positions as stream offsets (0 = the first byte) and turn them into 32-bit sequence numbers only at the wire. Which offset does each end already know, to use as the checkpoint of `unwrap`?',
      '`unwrap(seq, isn, checkpoint)`: `const offset = checkpoint + ((seq - wrap(checkpoint, isn)) | 0)`, plus `2 ** 32` if that is negative. In `decodeSegment`, compare `view.getUint32(0)` with `checksum(datagram.subarray(4))` before you read anything else. In `RtoEstimator.sample`, compute the new RTTVAR from the old SRTT, then the new SRTT; `reset()` and `sample()` can share one helper that returns the clamped `SRTT + max(G, K * RTTVAR)` (or `initialRto` before any sample).',
      'The receiver needs three fields: `next` (RCV.NXT as an offset), `finOffset` (once a FIN arrives), and a `Map` from offset to bytes for early pieces. For each intact segment: `offset = unwrap(seq, isn, next)`; keep only the part inside `[next, next + windowBytes)`; then loop, delivering every piece that starts at or before `next` (minus what was already delivered). Finally, always send `ACK wrap(next + (finished ? 1 : 0), isn)`, even for a duplicate, but never for a damaged datagram.',
      'The sender: `una` and `nxt` as offsets, a queue of written-but-unsent bytes, and an array of outstanding segments `{ offset, payload, fin, sentAt, retransmitted }`, oldest first. One `fill()` does all the sending: while `room = windowBytes - (nxt - una)` allows, cut `Math.min(mss, room, unsentBytes)` bytes, put the FIN on if it is next and fits, push, transmit, and start the timer only if `this.timer === undefined`.',
      'On an ACK: `acked = unwrap(ack, isn, una)`; return unless `una < acked <= nxt`. Shift every segment that ends at or before `acked`; if none of them has `retransmitted`, `estimator.sample(now - first.sentAt)`, else `estimator.reset()`. Set `una = acked`, then restart the timer if `nxt > una`, else stop it, and `fill()`. On the timer: mark `outstanding[0]` retransmitted, transmit it, `estimator.backOff()`, start the timer. Over UDP, the receiver sends its ACKs to the `rinfo` of the last datagram, which is the relay.',
    ],
    mistakes: [
      { name: 'no-checksum', what: 'No checksum on the wire: the field stays 0 and nothing is checked, so a damaged byte is delivered as data, or read as a sequence number.', caughtBy: 'drops a damaged segment silently' },
      { name: 'ack-out-of-order', what: 'A segment after a gap is taken as the next in order: the receiver skips the gap and acknowledges past it, so the missing bytes are never sent again.', caughtBy: 'acknowledges only what it holds in order' },
      { name: 'timer-per-segment-no-backoff', what: 'One timer per segment, each resending its segment after the same RTO again and again: the RTO never doubles.', caughtBy: 'RTO doubles on every timeout' },
      { name: 'window-in-packets', what: 'The window is a number of bytes, but the sender compares it with the number of segments in flight, and sends far more than the window.', caughtBy: 'never has more than the window outstanding' },
      { name: 'karn-ignored', what: 'RTT samples are taken from segments that were sent more than once, although nobody can tell which copy the ACK answers.', caughtBy: "Karn's rule" },
      { name: 'srtt-before-rttvar', what: 'SRTT is updated before RTTVAR, so RTTVAR measures the distance of the sample from the new average instead of the old one.', caughtBy: 'RTT estimation follows RFC 6298' },
      { name: 'resend-on-duplicate-ack', what: 'A duplicate ACK is taken as a loss and the oldest segment is resent at once, without a timeout.', caughtBy: 'no retransmission without a timeout' },
      { name: 'restart-timer-on-every-send', what: 'The timer is restarted for every new segment sent, so the oldest segment\'s timeout keeps moving away while data flows.', caughtBy: 'starts the timer when data goes out' },
    ],
  },
  {
    id: '09-framing',
    number: 9,
    slug: 'framing',
    title: 'From byte stream to messages',
    part: 2,
    summary: 'Length-prefixed and line-delimited decoders that take any chunks and give back whole frames, with a limit.',
    points: 10,
    files: ['exercise.ts'],
    hints: [
      'Start with the encoders: they show you the format. A frame is `HEADER_BYTES` of length, written with `DataView.setUint32` (big-endian by default), then the body; the length of a string is the length of its `TextEncoder` bytes, never `string.length`. A line is the UTF-8 bytes of the text, then `NEWLINE`.',
      'A decoder must work for any cut of the stream, so never assume a chunk starts or ends anywhere special. Keep what you need between calls in fields: for the length prefix, the header bytes so far (a header may arrive one byte at a time), then the declared length and the body bytes so far; for lines, copies of the pieces of the unfinished line. `bufferedBytes` is just the size of that.',
      '`push` is a loop over the chunk with an index `at`. In state `header`, copy up to `4 - headerFilled` bytes; when the header is complete, read the length with `>>> 0` (unsigned), check it against `maxFrameSize` *now*, and either deliver an empty frame or move to `body`. In state `body`, copy up to `length - bodyFilled` bytes; when the body is complete, deliver a copy and go back to `header`. Stop when `at === chunk.length`.',
      'For lines: `chunk.indexOf(NEWLINE, start)` finds the next end. Check `buffered + (end - start) > maxLineBytes` before keeping anything; with no newline, keep a copy (`new Uint8Array(chunk.subarray(start))`, since a Buffer\'s `slice()` is a view) and return; with one, join the kept pieces and this piece and decode the whole line with `new TextDecoder(\'utf-8\', { fatal: true })`. Errors go through one `#fail(error)` that remembers the error, so every later call can throw it again; `end()` fails when `bufferedBytes > 0`.',
    ],
    mistakes: [
      { name: 'one-chunk-one-message', what: 'Treating every chunk as exactly one message: its first 4 bytes as the header, the rest as the body.', caughtBy: 'keeps both frames when they arrive in one chunk' },
      { name: 'loses-second-frame', what: 'Returning from `push` as soon as one frame is delivered, so the next frame in the same chunk is lost.', caughtBy: 'keeps both frames when they arrive in one chunk' },
      { name: 'to-string-per-chunk', what: 'Decoding each chunk to text on its own (`chunk.toString()`), so a character split across two chunks turns into U+FFFD.', caughtBy: 'decodes a UTF-8 character split across chunks' },
      { name: 'string-length-as-byte-length', what: 'Writing `string.length` into the header: it counts UTF-16 code units, and an emoji is 2 of them but 4 bytes.', caughtBy: 'counts bytes, not string length' },
      { name: 'buffers-before-limit', what: 'Checking the limit only once the whole body has arrived, after buffering all of it.', caughtBy: 'refuses an oversize length before buffering its body' },
      { name: 'line-buffers-past-limit', what: 'Measuring a line only when its newline arrives, so a line that never ends is buffered without bound.', caughtBy: 'refuses a line longer than the limit without buffering past it' },
      { name: 'end-mid-frame-ignored', what: 'Letting the stream end in the middle of a frame without a word: a truncated message vanishes silently.', caughtBy: 'end of stream in the middle of a frame is an error' },
      { name: 'little-endian-length', what: 'Reading the 4-byte length least significant byte first, the CPU\'s order rather than the network\'s.', caughtBy: 'reads the length big-endian' },
      { name: 'signed-length', what: 'Building the length with `b0 << 24 | ...` and no `>>> 0`: a top bit of 1 makes it negative, and a negative length slips past the limit check.', caughtBy: 'reads a length with the top bit set as unsigned' },
      { name: 'frame-is-a-view', what: 'Cutting frames with a Buffer\'s `slice()`, which is a view: the frames change when the caller reuses its chunk.', caughtBy: 'hands out copies: the caller may reuse its chunk' },
    ],
  },
  {
    id: '10-protocol-design',
    number: 10,
    slug: 'protocol-design',
    title: 'A protocol of our own',
    part: 2,
    summary: 'A chat protocol over framed TCP (hello, join, say, leave, error) and a server that broadcasts to rooms.',
    points: 10,
    files: ['exercise.ts', 'protocol.ts'],
    hints: [
      'Start with `protocol.ts`. The decoder only stores bytes in `push()`; `next()` looks for the first newline. Which length must stay within the limit when there is no newline yet? And when do you turn bytes into a string, so that an emoji cut between two chunks comes out whole?',
      '`parseMessage`: `JSON.parse` in a `try`, then a check that the value is a plain object. Write one small checker per field kind (a name or room against `NAME_PATTERN`, a string, a list of versions) that throws `new ProtocolError(\'BAD_MESSAGE\', ..., field)`, and build the result from those checkers: `{ type: \'say\', room: nameOf(m, \'room\'), text: textOf(m.text) }` copies nothing else, so no `from` gets through.',
      'The server needs little state: a `Set` of clients `{ socket, decoder, name, rooms }`, a `Map` from room name to `{ members: Set, seq }`, and a drop counter. Send everything through one `write(client, line)`: skip a socket that is no longer `writable`, `socket.write(line)`, then `if (socket.writableLength > maxBufferedBytes) { dropped++; socket.destroy(); }`. The `\'close\'` handler removes the client from every room and broadcasts `left` to what remains.',
      'The pump: `for (let n = 0; n < budget; n++) { if (!socket.writable) return; const line = decoder.next(); if (line === null) return; handle(line); }`, with `next()` inside a `try` whose `TOO_LONG` becomes an error and `end()`. After the loop (budget spent): `waiting = true; socket.pause(); setImmediate(() => { waiting = false; socket.resume(); pump(client); })`. On `\'data\'`: `decoder.push(chunk)`, then `if (!waiting) pump(client)`.',
    ],
    mistakes: [
      { name: 'unchecked-write', what: 'The broadcast writes to every member without looking at `writableLength`: a client that stops reading is never dropped, and the server queues everything for it.', caughtBy: 'drops a client that stops reading' },
      { name: 'crash-on-bad-json', what: '`JSON.parse` is called without `try`/`catch`: one line that is not JSON throws out of the `\'data\'` handler and crashes the server.', caughtBy: 'bad JSON gets BAD_JSON' },
      { name: 'trusts-client-from', what: 'The server copies the `from` of a `say` into the `said` when there is one, so anyone can speak as anyone.', caughtBy: 'the server names the sender' },
      { name: 'held-lines-after-new', what: 'Lines held back for a later turn wait in a list, but the socket is not paused: lines that arrive meanwhile are handled first, and one sender\'s messages come out of order.', caughtBy: 'in the order sent' },
      { name: 'dead-member-kept', what: 'A closed connection is forgotten by the server but stays in its rooms: nobody hears a `left`, and its name stays taken.', caughtBy: 'a client that disconnects leaves its rooms' },
      { name: 'version-mismatch-accepted', what: 'A hello with no version in common is welcomed with the server\'s own version instead of being refused.', caughtBy: 'refuses a client with no version in common' },
      { name: 'every-error-closes', what: 'Every error ends the connection, so one typo costs a user the connection.', caughtBy: 'bad JSON gets BAD_JSON, and the connection stays open' },
      { name: 'drops-on-write-false', what: 'A client is dropped as soon as `write()` returns `false`, at the highWaterMark, long before the bound: one that is a moment behind is thrown out.', caughtBy: 'keeps a client that is behind by less than the bound' },
      { name: 'no-turns', what: 'All lines of a chunk are handled at once: while one client floods, everyone else waits behind the whole flood.', caughtBy: 'a client that floods' },
      { name: 'microtask-turns', what: 'The rest of a client\'s lines is scheduled with `queueMicrotask` instead of `setImmediate`, which runs before any other I/O: the flood still goes first.', caughtBy: 'a client that floods' },
      { name: 'too-long-waits-for-newline', what: 'The line limit is checked only when a newline arrives, so a client that never sends one makes the server buffer without end.', caughtBy: 'before its newline arrives' },
    ],
  },
  {
    id: '11-rpc',
    number: 11,
    slug: 'rpc',
    title: 'Calling across the wire',
    part: 2,
    summary: 'An RPC client and server over framed TCP: ids, concurrent calls, timeouts, and callbacks in both directions.',
    points: 10,
    files: ['exercise.ts', 'framing.ts'],
    hints: [
      'Start with `parseMessage`: decode with `new TextDecoder(\'utf-8\', { fatal: true })` inside the same `try` as `JSON.parse`, so both failures become PARSE_ERROR. Then check the shape one member at a time. Which two values does `typeof v === \'object\'` let through that are not objects you want?',
      'One class serves both ends. In the constructor, send every `\'data\'` chunk through a `FrameReader` and handle each payload: a message with a `method` is a request for you to answer, anything else is a response to one of your calls. What does your side keep so that a response can find its call, whatever order responses come in?',
      'The pending-call table is a `Map` from id to `{ method, resolve, reject, timer }`. Take ids from a counter that only goes up (`this.#nextId++`), never from `pending.size`. Write one `#settle(id, outcome)` that every ending goes through (reply, error reply, timeout, close): `get` the entry and return if there is none (a late reply), `delete` it, `clock.clearTimeout(timer)`, then resolve or reject. Encode the request before you `set` the entry.',
      'Answering: `if (method === HELLO_METHOD)` return `{ version: PROTOCOL_VERSION }`; `if (!Object.hasOwn(methods, method))` throw `new MethodError(ErrorCodes.METHOD_NOT_FOUND, ...)`; else `await methods[method](params, { connection: this, method, id })`. Wrap it all in one `async` function with `try`/`catch`, and send `result ?? null`, the MethodError\'s code/message/data, or INTERNAL_ERROR. Encode the reply inside a `try` too (a BigInt result). Never `await` one request before reading the next.',
      'Ending: keep one field that says why new calls fail (`ClosedError` after `close()`, `ConnectionLostError` once the socket emitted `\'close\'`), and on either event reject every entry through `#settle`. `connect()`: `net.connect`, `new RpcConnection(socket, options)`, one `clock.setTimeout` for `connectTimeoutMs`, then `call(HELLO_METHOD, { version: PROTOCOL_VERSION }, { timeoutMs: 0 })`; the socket\'s `\'error\'`, the timer and the hello\'s rejection each become a `ConnectError` (destroy the socket, clear the timer).',
    ],
    mistakes: [
      { name: 'match-by-order', what: 'Each reply settles the oldest pending call instead of the call with its id: the first slow method puts every later answer on the wrong question.', caughtBy: 'out-of-order replies are matched by id' },
      { name: 'timeout-leaks-entry', what: 'A timed-out call is rejected but its entry stays in the pending-call table: the table grows with every lost reply.', caughtBy: 'a per-call timeout fires at its deadline and removes the entry' },
      { name: 'no-connect-timeout', what: 'connect() has no deadline: against a peer that accepts the connection but never answers the hello, it waits forever.', caughtBy: 'a connect timeout fires against a peer that accepts but never answers the hello' },
      { name: 'dead-peer-leaves-calls-hanging', what: 'Nothing happens when the socket closes: the calls in flight wait for replies that can no longer come.', caughtBy: 'a dead peer rejects every pending call' },
      { name: 'ids-from-pending-size', what: 'The id is `pending.size + 1`: once an earlier call has ended, a new call gets the id of one still in flight.', caughtBy: 'never gives two calls in flight the same id' },
      { name: 'late-reply-crashes', what: 'A reply is settled with `pending.get(id)!`: a reply to a call that already timed out throws in the data handler and crashes the process.', caughtBy: 'a late reply after a timeout is ignored' },
      { name: 'connect-forgets-methods', what: "connect() wraps the socket without the client's methods, so the server's callbacks find no method on the client.", caughtBy: 'server-to-client callbacks work' },
      { name: 'undefined-result-dropped', what: 'A result of `undefined` is sent as it is: JSON.stringify drops the member, and the reply has neither result nor error.', caughtBy: 'a method that returns nothing answers null' },
      { name: 'one-request-at-a-time', what: 'The server awaits each handler before it handles the next request, so one slow call holds up every other call on the connection.', caughtBy: 'a slow call does not hold up a quick one' },
      { name: 'prototype-methods-callable', what: 'Methods are looked up with `methods[name]`, so a caller can run `toString` or `constructor`, which every object inherits.', caughtBy: 'an unknown method is METHOD_NOT_FOUND' },
      { name: 'crashes-on-bad-frame', what: 'parseMessage is called without `try`: one frame that is not JSON throws out of the data handler and crashes the server.', caughtBy: 'a malformed message gets an error reply with id null' },
      { name: 'timer-not-cleared', what: 'A call that gets its reply leaves its timer armed: it keeps the process alive and fires later for nothing.', caughtBy: 'clears its timer when the reply arrives' },
    ],
  },
  {
    id: '12-firewalls-and-timeouts',
    number: 12,
    slug: 'firewalls-and-timeouts',
    title: 'When the port goes dark',
    part: 2,
    summary: 'A rule engine, a filtering proxy that rejects or drops, and a client with timeouts and capped backoff.',
    points: 10,
    files: ['exercise.ts', 'proxy.ts', 'client.ts'],
    hints: [
      'Work in the order of the lesson: the rule engine in `exercise.ts` (addresses, then rules, then `decide`, then the `Firewall`), then `proxy.ts`, then `client.ts`. For prefixes, which bits of the address must equal which bits of the network, and what does the mask look like for `/0` and for `/32`?',
      '`parseAddress`: for IPv4, four parts each matching `/^(0|[1-9]\\d{0,2})$/` and at most 255, folded with `value = (value << 8n) | BigInt(part)`. For IPv6, `text.split(\'::\')` gives one or two halves; fill the missing groups with zeros (at least one when `::` is there), then fold 16 bits at a time. The mask of a prefix is `((1n << BigInt(length)) - 1n) << BigInt(bits - length)`; `prefixContains` is `family` equal and `(address.value & mask) === network`.',
      '`decide` is `rules.findIndex((r) => ruleMatches(r, packet))`: -1 means the default. The `Firewall` keeps a `Set` of keys like `${direction} ${source}:${sourcePort} ${destination}:${destinationPort}`; a reply is the packet with the other direction and the endpoints swapped. `check`: established if the key or the reversed key is in the set; else `decide`, and add the key when it accepts. `forget` deletes both keys.',
      'The proxy: `net.createServer({ allowHalfOpen: true }, onConnection)`. In `onConnection`: `socket.on(\'error\', () => {})`, then `firewall.check({ direction: \'in\', source: socket.remoteAddress, sourcePort: socket.remotePort, destination: target.host, destinationPort: target.port })`. Reject: `socket.resetAndDestroy()`. Drop: `socket.resume()` and keep it in a Set. Accept: `const up = net.connect({ ...target, allowHalfOpen: true })`, `up.on(\'error\', () => socket.resetAndDestroy())`, `socket.on(\'error\', () => up.destroy())`, `socket.pipe(up); up.pipe(socket)`. On each held socket\'s `close`: remove it, `open--`, `firewall.forget(packet)`.',
      'The client: in `callOnce`, `const socket = (options.dial ?? ((p, h) => net.connect({ port: p, host: h })))(port, host)`; `socket.setTimeout(connectMs)`; on `connect`: `socket.setTimeout(idleMs)` and `socket.end(copy)`; on `timeout`: `socket.destroy()` and reject with the phase; on `error`: `RefusedError` if the code is ECONNREFUSED, or ECONNRESET/EPIPE with no reply byte yet, else `ResetError`. `backoffDelay` is `random() * Math.min(capMs, baseMs * 2 ** retry)`. `withRetries`: a `for (let n = 1; ; n++)` loop with try/catch around `await attempt(n)`, rethrowing unless `err instanceof CallError && idempotent`, then `GaveUpError` at `n >= attempts`, else `await new Promise((r) => clock.setTimeout(r, backoffDelay(n - 1, options, random)))`.',
    ],
    mistakes: [
      { name: 'last-match-wins', what: 'Every rule is asked and the last one that matches decides, so a broad rule at the end overrides the specific ones before it.', caughtBy: 'first match wins: the earliest matching rule decides' },
      { name: 'cidr-mask-off-by-one', what: 'The prefix mask has one bit too few, so a /32 holds two addresses and every prefix twice the addresses it should.', caughtBy: '/32 and /128 match exactly one address' },
      { name: 'established-replies-blocked', what: 'The connection table is looked up only in the direction the connection was opened, so its replies go through the rules and are dropped.', caughtBy: 'established replies pass' },
      { name: 'reject-with-fin', what: 'The proxy "rejects" with destroy(), which sends a FIN: the client sees a clean, empty end instead of a refusal.', caughtBy: 'REJECT resets the connection at once' },
      { name: 'drop-ends-connection', what: 'The proxy "drops" by ending the connection, so the client gets a FIN at once instead of silence.', caughtBy: 'DROP is silence' },
      { name: 'proxy-not-half-open', what: 'The proxy is not half-open: the client\'s FIN after its request makes Node end the way back too, and the reply is lost.', caughtBy: 'ACCEPT pipes the request to the server and the whole reply back' },
      { name: 'reset-read-as-broken', what: 'Every reset is taken for a broken connection, so the proxy\'s REJECT (a reset before any byte of reply) is not recognised as a refusal.', caughtBy: 'tells refused from dropped' },
      { name: 'timeout-without-destroy', what: "The 'timeout' handler rejects but never destroys the socket: socket.setTimeout only notifies, so the connection stays open.", caughtBy: 'an idle timeout destroys the socket, not just notifies' },
      { name: 'uncapped-backoff', what: 'The backoff doubles for ever: capMs is never applied, so after a few failures the client waits minutes, then hours.', caughtBy: 'retry delays grow and are capped' },
      { name: 'jitter-after-cap', what: 'The jitter is added on top of the capped wait, so delays overshoot the cap and never come close to 0.', caughtBy: 'jitter stays inside its bounds' },
      { name: 'retries-non-idempotent', what: 'Every failed call is retried, idempotent or not, so a request that did its work before the failure is done again.', caughtBy: 'never retries a non-idempotent call' },
    ],
    peers: ['ip', 'nft'],
  },
  {
    id: '13-http',
    number: 13,
    slug: 'http',
    title: 'HTTP/1.1 from scratch',
    part: 3,
    summary: 'An HTTP/1.1 server on node:net: a byte-level parser state machine, keep-alive, pipelining, chunked bodies, and the limits that keep it safe.',
    points: 10,
    files: ['exercise.ts', 'server.ts'],
    hints: [
      'Start with the parser and its states. Which bytes does each state expect, and how does it know it has all of them? Lines end at an LF (`bytes.indexOf(0x0a, at)`), a body after exactly Content-Length bytes, a chunk after its hex size. When the LF is not there yet, keep a copy of the rest and return: the next push continues from the same state.',
      'Keep one `at` index into the new bytes and a `while (at < input.length)` loop with a `switch` on the state. A line state: no LF → push `Buffer.from(rest)` onto a list of pieces and return; LF → `Buffer.concat([...pieces, upToLf])`, check it ends in CRLF and fits its limit, then handle it. A body state: take `Math.min(remaining, input.length - at)` bytes, copy them, subtract, and move on when `remaining` reaches 0.',
      'The end of the head decides the body (RFC 9112 §6.3), in this order: Host present on 1.1; Transfer-Encoding and Content-Length together → ERR_BOTH_LENGTHS; Transfer-Encoding not exactly `chunked` → 501; Content-Length each comma part `/^[0-9]+$/` and all equal, at most maxBodyBytes. Set the next state, then call `events.onHead(head)`, and finish the request at once when there is no body. A chunk size line is `/^([0-9A-Fa-f]+)[ \\t]*(;.*)?$/` and `parseInt(hex, 16)`; 0 → trailer-line.',
      'The server: one object per connection with a `RequestParser`, a queue of slots `{ head, response?, close }` and a list of slots still waiting for their body. `onHead` pushes a slot on both (and the 100 Continue when the client expects it and `parser.state !== \'request-line\'`). Each finished request: `slot = waiting.shift()`, `slot.response = await handler(req)` inside try/catch (catch → 500), then `flush()`: while `queue[0]?.response`, shift it, write it, and `end()` after one that closes.',
      'Timers: after each `data`, the head timer runs while `state === \'header-line\'` or the request line has bytes (`setTimeout(() => refuse(408), headersTimeoutMs)`, started once, cleared when the head is done); the idle timer runs when nothing is owed or arriving (`setTimeout(() => socket.destroy(), idleTimeoutMs)`). `refuse(status)`: the slot waiting for its body (or a new one) gets the status with close, then `flush()`. Flow: `socket.pause()` while `queue.length >= MAX_OWED_RESPONSES` or `socket.writableNeedDrain`, `resume()` otherwise and on `drain`. Clear every timer on `close`.',
    ],
    mistakes: [
      { name: 'line-split-across-reads-lost', what: 'Looks for the end of a line only in the newest chunk and keeps nothing in between, so a head that arrives in two reads loses its first part.', caughtBy: 'reads a request fed one byte at a time' },
      { name: 'body-by-string-length', what: 'Decodes the body as UTF-8 and counts characters against Content-Length, so a body with multi-byte characters swallows bytes of the next request.', caughtBy: 'counts the body in bytes, not characters' },
      { name: 'ignores-keep-alive', what: 'Closes the connection after every response, so a keep-alive client must reconnect for each request.', caughtBy: 'keeps the connection open between requests' },
      { name: 'trusts-both-lengths', what: 'Accepts Transfer-Encoding together with Content-Length and frames the body by Content-Length: the classic request-smuggling gap.', caughtBy: 'refuses Transfer-Encoding together with Content-Length' },
      { name: 'chunk-size-decimal', what: 'Reads chunk sizes as decimal numbers, so "1A" is refused and "10" means ten bytes instead of sixteen.', caughtBy: 'reads chunk sizes in hex, either case' },
      { name: 'no-host-check', what: 'Accepts an HTTP/1.1 request without a Host field.', caughtBy: 'refuses an HTTP/1.1 request without Host' },
      { name: 'head-sends-body', what: 'Sends the body in answer to HEAD, and the client reads it as the start of the next response.', caughtBy: 'answers HEAD with the head of a GET and no body' },
      { name: 'never-sends-continue', what: 'Never sends 100 Continue, so a client that asked for it waits (curl: a second) before sending its body.', caughtBy: 'sends 100 Continue before reading the body' },
      { name: 'responses-in-finish-order', what: 'Writes each response as soon as its handler finishes, so pipelined responses go out in the wrong order.', caughtBy: 'answers pipelined requests in order even when handlers finish out of order' },
      { name: 'head-deadline-reset-per-byte', what: 'Restarts the head deadline on every chunk received, so a client that drips a byte now and then is never cut off (slowloris).', caughtBy: 'cuts off a slow-headers (slowloris) client' },
      { name: 'space-before-colon-accepted', what: 'Trims whitespace from the field name, so "Transfer-Encoding : chunked" is read as a field that another parser ignores.', caughtBy: 'refuses whitespace between a field name and its colon' },
      { name: 'unbounded-header-section', what: 'Puts no bound on the size of the field section, so a client can make the server hold any amount of header bytes.', caughtBy: 'refuses a field section over maxHeaderBytes with 431' },
    ],
    peers: ['curl'],
  },
  {
    id: '14-web-services',
    number: 14,
    slug: 'web-services',
    title: 'Plain JSON, through the front door',
    part: 3,
    summary: 'The message service as a JSON API over HTTP (pages, status codes, JSON errors, a 415 for SOAP, JSON-RPC at /rpc), on node:http or your chapter-13 server, with a typed fetch client.',
    points: 10,
    files: ['exercise.ts', 'server.ts', 'client.ts'],
    hints: [
      'Work in the order of the files: the checks and the store in `exercise.ts` first, then `messageService`, then `readBody` and `serve` in `server.ts`, then the client. The service is a plain function from a request to a response: which three things decide its answer, in which order (path, method, body)?',
      'Throw, then answer in one place: every check throws `new ApiError(status, code, message, details, headers)`, and `messageService` wraps its router in `try { ... } catch (err) { if (err instanceof ApiError) return errorResponse(err); ... }`. Route with `new URL(target.startsWith(\'/\') ? `http://x${target}` : target)`: compare `url.pathname` to `/messages`, `/rpc`, and `/^\\/messages\\/([^/]+)$/`, and read the query from `url.searchParams`.',
      'The store: a `bigint` counter (`#nextId = options.firstId ?? 1n`), `String(this.#nextId++)` for each id, an array in id order and a `Map` by id. `list`: the first index whose `BigInt(id) > BigInt(after)`, then `slice(start, start + limit)`, and `next` = the last id only when `start + page.length < all.length`. Validation: `/^[0-9]+$/` before `Number(limit)`, `/^(0|[1-9][0-9]*)$/` for `after`, `typeof v !== \'string\' || v.trim() === \'\'` for the fields, and `Object.keys(value)` for unknown members.',
      'JSON-RPC: `handleRpc` maps a batch (`Array.isArray`) with one `answerOne(call)`, filters out the `undefined`s (notifications), and returns `undefined` when none is left; an empty array goes through `answerOne` itself, which makes it an Invalid Request. In `answerOne`: check the shape, look up `Object.hasOwn(methods, method)`, run it in `try`, turn a thrown `ApiError` into INVALID_PARAMS with `data: err.details`, and return nothing when `!(\'id\' in call)`. The route answers `undefined` with `{ status: 204 }`.',
      '`readBody`: `stream.on(\'data\', (c) => { size += c.length; if (size > max) { stop(); stream.pause(); reject(new BodyTooLargeError(max)); } else chunks.push(c); })`, `on(\'end\', () => resolve(Buffer.concat(chunks, size)))`, and reject on `error` and early `close`. The adapter: `Number(req.headers[\'content-length\']) > max` or BodyTooLargeError → `res.writeHead(413, { ...json, connection: \'close\' })`. The client: `fetch(url, { signal: AbortSignal.timeout(ms) })` and `await res.text()` inside one `try`; `catch (err)`: `err.name === \'TimeoutError\'` → TimeoutError, else NetworkError; then `!res.ok` → HttpStatusError, not JSON → BadResponseError.',
    ],
    mistakes: [
      { name: 'parse-on-first-chunk', what: 'The body is taken to be complete at its first `data` event, so the handler parses half a body whenever the network splits it.', caughtBy: 'a body that arrives in two pieces is read whole before parsing' },
      { name: 'decode-per-chunk', what: 'Each chunk is turned into a string on its own (`text += chunk`), so a character split across two TCP segments becomes two U+FFFD.', caughtBy: 'a character split across two TCP segments survives' },
      { name: 'errors-as-200', what: 'Every answer is a 200 and the error hides in the body, so no client, proxy or log can tell a failure from a success.', caughtBy: 'bad JSON gives 400 with a JSON error' },
      { name: 'no-content-type-check', what: 'The Content-Type is never checked, so text/plain, forms and XML are parsed as JSON instead of refused with 415.', caughtBy: 'a wrong content type gives 415' },
      { name: 'ids-as-numbers', what: 'The id counter is a Number: past 2^53 it stops counting by one, and two messages get the same id.', caughtBy: 'ids beyond 2^53 survive' },
      { name: 'no-body-cap', what: 'The node:http adapter reads a body to its end whatever its size, so one endless upload fills the server\'s memory and 413 comes too late or never.', caughtBy: 'the adapter refuses a body over its cap while it is still arriving' },
      { name: '405-without-allow', what: 'A 405 without an `Allow` field, so the client cannot learn which methods the resource supports.', caughtBy: '405 names the allowed methods in Allow' },
      { name: 'soap-generic-415', what: 'A SOAP envelope gets the same bare 415 as any wrong type (or a 404 at its own endpoint), never the answer that names application/json and shows the JSON request.', caughtBy: 'a SOAP envelope gets a 415 that names application/json' },
      { name: 'notification-answered', what: 'A JSON-RPC notification (no id) is answered like a call, with id null, instead of a 204 with nothing.', caughtBy: 'a notification gets no answer: 204' },
      { name: 'client-no-timeout', what: 'fetch without a signal: a server that accepts the request and never answers holds the call for ever.', caughtBy: 'the client times out' },
      { name: 'client-one-error-class', what: 'Every failure becomes an HttpStatusError, so a caller cannot tell "the server said no" from "the network failed" or "the answer was garbage".', caughtBy: 'maps each failure to its own error class' },
    ],
    peers: ['curl'],
  },
];

/** The chapter number as learners type and see it: "04". */
export function chapterNumber(chapter: Pick<Chapter, 'number'>): string {
  return String(chapter.number).padStart(2, '0');
}

/** The id a chapter must have: "<two-digit number>-<slug>". */
export function expectedId(chapter: Pick<Chapter, 'number' | 'slug'>): string {
  return `${chapterNumber(chapter)}-${chapter.slug}`;
}

/** The command that checks one chapter, as the lesson, the site and the CLI print it. */
export function checkCommand(chapter: Pick<Chapter, 'number'>): string {
  return `npm run workbook -- check ${chapterNumber(chapter)}`;
}

/** Where the built variants of the known mistakes live (git-ignored; see engine/mistakes.ts). */
export const VARIANTS_DIR = 'tests/.generated/mistakes';

/** Paths of a chapter's parts, relative to the repository root. */
export function chapterPaths(chapter: Chapter) {
  return {
    lesson: `chapters/${chapter.id}/lesson.md`,
    stubs: chapter.files.map((f) => `chapters/${chapter.id}/${f}`),
    solutions: chapter.files.map((f) => `solutions/${chapter.id}/${f}`),
    /** The chapter's test folder: its spec file and its harness. */
    testDir: `tests/${chapter.id}`,
    /** The spec: the chapter's behaviour, top to bottom. */
    test: `tests/${chapter.id}/${chapter.slug}.test.ts`,
    /** The chapter's own test harness (helpers only this chapter uses). */
    harness: `tests/${chapter.id}/harness.ts`,
    /** One patch per known mistake, against solutions/<id>/. */
    patches: chapter.mistakes.map((m) => `tests/mistakes/${chapter.id}/${m.name}.patch`),
    /** Where each mistake's variant is built (solution copy + patch). */
    mistakes: chapter.mistakes.map((m) => `${VARIANTS_DIR}/${chapter.id}/${m.name}`),
  };
}

/**
 * Find a chapter by what a learner types: "4", "04", "sockets" or "04-sockets".
 * Returns undefined when nothing matches.
 */
export function findChapter(name: string): Chapter | undefined {
  const key = name.trim().toLowerCase();
  if (/^\d+$/.test(key)) return chapters.find((c) => c.number === Number(key));
  return chapters.find((c) => c.slug === key || c.id === key);
}

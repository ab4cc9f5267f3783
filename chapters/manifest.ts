/**
 * THE chapter manifest: the one ordered list of chapters that the CLI, the site,
 * the self-check and the grader all read. Nothing finds chapters by scanning folders.
 *
 * Adding a chapter? See CONTRIBUTING.md ("Adding a chapter").
 */

/** A known-wrong solution that the chapter's suite must reject. */
export interface Mistake {
  /** Folder name under tests/mistakes/<chapter id>/. */
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
  /** Known-mistake variants shipped in tests/mistakes/<id>/<name>/. */
  mistakes: Mistake[];
  /** Optional external programs some tests use when present (skipped with a reason otherwise). */
  peers?: string[];
}

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
    hints: [],
    mistakes: [],
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
    hints: [],
    mistakes: [],
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
    hints: [],
    mistakes: [],
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
    hints: [],
    mistakes: [],
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
    hints: [],
    mistakes: [],
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
    files: ['exercise.ts'],
    hints: [],
    mistakes: [],
  },
  {
    id: '07-streams-and-backpressure',
    number: 7,
    slug: 'streams-and-backpressure',
    title: 'Queues on both ends',
    part: 1,
    summary: 'A bounded byte stream, and a TCP relay whose memory stays bounded between a fast sender and a slow reader.',
    points: 10,
    files: ['exercise.ts'],
    hints: [],
    mistakes: [],
  },
  {
    id: '08-reliable-delivery',
    number: 8,
    slug: 'reliable-delivery',
    title: 'Making datagrams reliable',
    part: 1,
    summary: 'A sliding-window protocol with RFC 6298 timers that delivers every byte once, in order, over a lossy channel.',
    points: 10,
    files: ['exercise.ts'],
    hints: [],
    mistakes: [],
  },
];

/** Paths of a chapter's parts, relative to the repository root. */
export function chapterPaths(chapter: Chapter) {
  return {
    lesson: `chapters/${chapter.id}/lesson.md`,
    stubs: chapter.files.map((f) => `chapters/${chapter.id}/${f}`),
    solutions: chapter.files.map((f) => `solutions/${chapter.id}/${f}`),
    test: `tests/${chapter.id}.test.ts`,
    mistakes: chapter.mistakes.map((m) => `tests/mistakes/${chapter.id}/${m.name}`),
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

/** The shared test harness. Chapter suites import from here. */
export * from './chunker.ts';
export * from './cleanup.ts';
export * from './clock.ts';
export * from './deadline.ts';
export * from './format.ts';
export * from './impairment.ts';
export * from './impl.ts';
export * from './lesson.ts';
export * from './net.ts';
export * from './peers.ts';
export * from './property.ts';
export * from './random.ts';
export * from './replay.ts';
export * from './transcript.ts';
export * from './worker.ts';
export * from './lossy-udp-relay.ts';
export * from './script.ts';

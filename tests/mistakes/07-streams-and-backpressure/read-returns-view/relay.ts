// Known mistake "read-returns-view": this file is the unchanged solution; the mistake is in exercise.ts.
export * from '../../../../solutions/07-streams-and-backpressure/relay.ts';

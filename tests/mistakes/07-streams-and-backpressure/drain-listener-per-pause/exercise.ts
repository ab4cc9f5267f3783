// Known mistake "drain-listener-per-pause": this file is the unchanged solution; the mistake is in relay.ts.
export * from '../../../../solutions/07-streams-and-backpressure/exercise.ts';

// Known mistake "no-time-wait": this file is the unchanged solution; the mistake is in exercise.ts.
export * from '../../../../solutions/06-handshake/sequence.ts';

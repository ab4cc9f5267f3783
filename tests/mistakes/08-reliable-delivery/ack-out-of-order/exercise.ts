// Known mistake "ack-out-of-order": this file is the unchanged solution; the mistake is in receiver.ts.
export * from '../../../../solutions/08-reliable-delivery/exercise.ts';

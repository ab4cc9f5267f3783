// Known mistake "no-checksum": this file is the unchanged solution; the mistake is in segment.ts.
export * from '../../../../solutions/08-reliable-delivery/rto.ts';

// Known mistake "srtt-before-rttvar": this file is the unchanged solution; the mistake is in rto.ts.
export * from '../../../../solutions/08-reliable-delivery/segment.ts';

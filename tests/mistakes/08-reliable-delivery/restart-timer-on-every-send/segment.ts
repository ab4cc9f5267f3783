// Known mistake "restart-timer-on-every-send": this file is the unchanged solution; the mistake is in exercise.ts.
export * from '../../../../solutions/08-reliable-delivery/segment.ts';

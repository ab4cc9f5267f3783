// Known mistake "window-in-packets": this file is the unchanged solution; the mistake is in exercise.ts.
export * from '../../../../solutions/08-reliable-delivery/segment.ts';

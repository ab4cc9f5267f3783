// Known mistake "plain-less-than": this file is the unchanged solution; the mistake is in sequence.ts.
export * from '../../../../solutions/06-handshake/delay-proxy.ts';

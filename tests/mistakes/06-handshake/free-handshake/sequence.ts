// Known mistake "free-handshake": this file is the unchanged solution; the mistake is in delay-proxy.ts.
export * from '../../../../solutions/06-handshake/sequence.ts';

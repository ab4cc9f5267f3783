/**
 * A pseudo-terminal for the interactive mode's tests and benchmark, through python3's pty module
 * (present wherever python3 is; no tmux needed). The test reads the screen as a stream and types keys.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { cleanEnv } from './sandbox.ts';

// Runs argv in a new pty of 120x50, relays our stdin to it and its output to our stdout,
// reports the child's pid on stderr, and exits with the child's exit code. When our stdin closes
// (the test or benchmark that drives it is gone), it asks the child to stop.
const RELAY = `
import fcntl, os, pty, select, signal, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 120, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
sys.stderr.write('PID %d\\n' % pid)
sys.stderr.flush()
stdin_open = True
while True:
    r, _, _ = select.select([fd] + ([0] if stdin_open else []), [], [])
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 1024)
        if data:
            os.write(fd, data)
        else:
            stdin_open = False
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;

/** Why a pty cannot be had here, or undefined when python3's pty works. */
export function ptyUnavailable(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import pty, termios, fcntl'], { stdio: 'ignore' });
  if (probe.error) return 'python3 is not installed (needed for a pseudo-terminal)';
  return probe.status === 0 ? undefined : "python3 has no pty module on this platform";
}

const CLEAR = '\x1b[2J';
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

/** A program running in a pseudo-terminal. */
export class PtySession {
  private readonly child: ChildProcessWithoutNullStreams;
  private raw = '';
  private pid?: number;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;

  constructor(argv: string[], opts: { cwd: string; env?: Record<string, string> }) {
    this.child = spawn('python3', ['-c', RELAY, ...argv], { cwd: opts.cwd, env: cleanEnv({ TERM: 'xterm-256color', ...opts.env }) });
    this.child.stdout.on('data', (d: Buffer) => (this.raw += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => {
      const m = /PID (\d+)/.exec(d.toString());
      if (m) this.pid = Number(m[1]);
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Everything printed so far, without escapes. */
  get output(): string {
    return strip(this.raw);
  }

  /** What is on the screen now: the output since the last clear-screen. */
  screen(): string {
    const at = this.raw.lastIndexOf(CLEAR);
    return strip(at < 0 ? this.raw : this.raw.slice(at));
  }

  /** A mark in the output, for `since`. */
  mark(): number {
    return this.raw.length;
  }

  /** The output printed after a mark, without escapes. */
  since(mark: number): string {
    return strip(this.raw.slice(mark));
  }

  /** Type keys. */
  press(keys: string): void {
    this.child.stdin.write(keys);
  }

  /** Wait until the screen matches; returns the screen, or throws with the screen. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000, text: () => string = () => this.screen()): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const s = text();
      if (pattern.test(s)) return s;
      if (Date.now() - t0 > timeoutMs) throw new Error(`the screen did not show ${pattern} within ${timeoutMs} ms. It shows:\n${s}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Stop the program (SIGTERM to it, then the relay), if still running. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    if (this.pid) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }
}

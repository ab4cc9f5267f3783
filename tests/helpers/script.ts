/**
 * Tests as scripts of actions and expectations (the style of CS144's harness): each step drives the
 * code under test or checks it, and a failure prints the script up to the step that failed, what
 * went wrong, why a correct implementation behaves otherwise, and the state of the learner's object.
 * Everything the code under test sends must be claimed by an expectation before the next action.
 */
import { thrown } from './format.ts';
import { fail } from './lesson.ts';

/** What a script runs against: the learner's object(s) plus whatever the steps need (a clock, ...). */
export interface ScriptWorld {
  /** What the code under test sent that no expectation has claimed yet, one string per item. */
  unclaimed(): string[];
  /** Forget the unclaimed items (they have been reported). */
  claimAll(): void;
  /** The state of the code under test for a failure message, e.g. "Your connection now: ESTABLISHED". */
  describe(): string;
}

/** One line of a script. `exec` returns what went wrong, or nothing. */
export class Step<W> {
  /** Why a correct implementation does this, in the words of the lesson (shown when it fails). */
  reason?: string;

  constructor(
    readonly kind: 'action' | 'expectation',
    /** The line as the script shows it. */
    readonly text: string,
    readonly exec: (world: W) => string | undefined,
    /** What a correct implementation does here; by default the text without its "expect ". */
    readonly goal = text.replace(/^expect /, ''),
  ) {}

  /** Give the reason an expectation holds. */
  why(reason: string): this {
    if (this.kind !== 'expectation') throw new Error(`Authoring bug: why() belongs on an expectation, not on "${this.text}"`);
    this.reason = reason;
    return this;
  }
}

/** A step that drives the code under test. */
export function action<W>(text: string, exec: (world: W) => unknown): Step<W> {
  return new Step<W>('action', text, (world) => void exec(world));
}

/** A step that checks the code under test; `exec` returns what went wrong, or nothing. */
export function expectation<W>(text: string, exec: (world: W) => string | undefined, why?: string, goal?: string): Step<W> {
  const step = new Step<W>('expectation', text, exec, goal);
  return why ? step.why(why) : step;
}

/** How a script presents itself in a failure message. */
export interface ScriptOptions {
  /** The script's name. */
  title: string;
  /** The setup in a few words, e.g. "ISN 100, window 300 bytes". */
  preamble: string;
  /** A seeLesson(...) reference to the section that explains the script. */
  lesson: string;
  /** Why an unexpected send is wrong (default: nothing in the script so far calls for it). */
  unexpectedSendWhy?: string;
}

/** Run `steps` in order against `world`; the first problem fails the test with the script so far. */
export function runScript<W extends ScriptWorld>(world: W, steps: Step<W>[], o: ScriptOptions): void {
  const lines: string[] = [];
  const report = (n: number, text: string, problem: string, reason: string | undefined, goal: string): never =>
    fail({
      did: `step ${n}: ${problem.replace(/\.$/, '')}.`,
      expected: reason ? `${goal}, because ${reason}.` : `${goal}.`,
      lesson: o.lesson,
      extra: [`Script "${o.title}" (${o.preamble}), up to the step that failed:`, ...lines, `  x ${String(n).padStart(2)}. ${text}`, `         ${problem}`, world.describe()].join('\n'),
    });
  // Sent but not claimed by an expectation: reported as a step of its own, before the next action.
  const unclaimed = (n: number) => {
    const extra = world.unclaimed();
    if (extra.length === 0) return;
    world.claimAll();
    report(
      n,
      `expect you to send nothing more after step ${n - 1}`,
      `you sent ${extra.join(', ')}`,
      o.unexpectedSendWhy ?? 'nothing in the script so far calls for it',
      'you send nothing more',
    );
  };
  steps.forEach((step, i) => {
    const n = i + 1;
    if (step.kind === 'action') unclaimed(n);
    let problem: string | undefined;
    try {
      problem = step.exec(world);
    } catch (err) {
      report(n, step.text, `it threw ${thrown(err)}`, undefined, `${step.text.replace(/^(you|test): /, '').replace(/^expect /, '')}, handled without an error`);
    }
    if (problem) report(n, step.text, problem, step.reason, step.goal);
    lines.push(`    ${String(n).padStart(2)}. ${step.text}${step.kind === 'expectation' ? '   ok' : ''}`);
  });
  unclaimed(steps.length + 1);
}

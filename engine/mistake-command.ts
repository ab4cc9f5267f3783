/**
 * `npm run mistake -- <command>`: work on the known mistakes (tests/mistakes/<id>/<name>.patch) as code.
 *
 *   npm run mistake -- list [chapter]            every mistake, with the test that must catch it
 *   npm run mistake -- build [chapter]           build the variants into tests/.generated/mistakes/
 *   npm run mistake -- edit <chapter> <name>     put the variant (or, for a new name, the solution) in
 *                                                tests/.generated/editing/<id>/<name>/ to edit as code
 *   npm run mistake -- save <chapter> <name>     write the edited folder back as the patch
 *   npm run mistake -- diff <chapter> <name>     print the patch the edited folder would make
 *
 * Run a suite against a variant with WORKBOOK_IMPL=<its folder>, or grade it:
 *   npm run workbook -- grade --mistake 04/ignores-half-close
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from '../chapters/manifest.ts';
import { chapterNumber, chapters, findChapter } from '../chapters/manifest.ts';
import { repoRoot } from './impl.ts';
import { PatchError, buildVariants, diffAgainstSolution, mistakePaths, salvageVariant, variantFiles } from './mistakes.ts';

const USAGE = `Usage: npm run mistake -- list [chapter] | build [chapter] | edit <chapter> <name> [--force] | save <chapter> <name> | diff <chapter> <name>`;

function die(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

function chapterOf(name: string | undefined): Chapter {
  if (!name) die(USAGE);
  const ch = findChapter(name);
  if (!ch) die(`No chapter "${name}". Chapters: ${chapters.map((c) => `${c.number} ${c.slug}`).join(', ')}`);
  return ch;
}

const abs = (rel: string) => path.join(repoRoot, rel);

/** A fingerprint of the chapter's solution folder, kept beside an editing folder when `edit` makes it. */
function solutionHash(ch: Chapter): string {
  const hash = createHash('sha256');
  const dir = abs(`solutions/${ch.id}`);
  for (const rel of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const file = path.join(dir, rel);
    if (!statSync(file).isFile()) continue;
    hash.update(`${rel}\0`).update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/** Where `edit` notes which solution an editing folder was made from. */
const baseFile = (editing: string) => abs(`${editing}.base`);

/** True when the editing folder holds changes that `save` has not written to the patch yet. */
function unsaved(ch: Chapter, name: string): boolean {
  const { editing, patch } = mistakePaths(ch, name);
  if (!existsSync(abs(editing))) return false;
  const current = existsSync(abs(patch)) ? readFileSync(abs(patch), 'utf8') : '';
  try {
    return diffAgainstSolution(ch, abs(editing)) !== current;
  } catch {
    return true;
  }
}

// Output piped into `head` ends early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));

const [command, ...rest] = process.argv.slice(2);
const force = rest.includes('--force');
const args = rest.filter((a) => !a.startsWith('--'));

switch (command) {
  case 'list': {
    for (const ch of args[0] ? [chapterOf(args[0])] : chapters) {
      console.log(`${ch.id}`);
      for (const m of ch.mistakes) console.log(`  ${m.name.padEnd(30)} caught by "${m.caughtBy}"\n  ${' '.repeat(30)} ${m.what}`);
    }
    break;
  }
  case 'build': {
    const report = buildVariants(args[0] ? [chapterOf(args[0])] : chapters);
    for (const b of report.built) console.log(`built ${path.relative(repoRoot, b.dir)}`);
    for (const f of report.failed) console.error(`FAILED ${f.chapter.id}/${f.mistake.name}: ${f.error}`);
    process.exit(report.failed.length ? 1 : 0);
    break;
  }
  case 'edit': {
    const ch = chapterOf(args[0]);
    const name = args[1] ?? die(USAGE);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) die(`A mistake's name is lowercase words joined by "-", e.g. ignores-half-close (got "${name}")`);
    const { editing, patch } = mistakePaths(ch, name);
    if (unsaved(ch, name) && !force) {
      die(`${editing} holds changes not saved to ${patch}. Save them (npm run mistake -- save ${chapterNumber(ch)} ${name}) or discard them with --force.`, 1);
    }
    rmSync(abs(editing), { recursive: true, force: true });
    mkdirSync(abs(editing), { recursive: true });
    const known = ch.mistakes.find((m) => m.name === name);
    const writeAll = (files: Map<string, string>) => {
      for (const [rel, text] of files) {
        mkdirSync(path.dirname(path.join(abs(editing), rel)), { recursive: true });
        writeFileSync(path.join(abs(editing), rel), text);
      }
    };
    const rejectedFile = `${editing}.rejected.patch`;
    rmSync(abs(rejectedFile), { force: true });
    writeFileSync(baseFile(editing), `${solutionHash(ch)}\n`);
    if (known && existsSync(abs(patch))) {
      let stale: PatchError | undefined;
      try {
        writeAll(variantFiles(ch, known));
      } catch (err) {
        if (!(err instanceof PatchError) || !existsSync(abs(patch))) throw err;
        stale = err;
      }
      if (stale) {
        // The solution changed under the patch: start from the solution with the hunks that still apply,
        // and hand over the others to redo by hand.
        const { files, rejected } = salvageVariant(ch, known);
        writeAll(files);
        writeFileSync(abs(rejectedFile), rejected);
        console.log(`${stale.message.split('. Rebuild it')[0]}.`);
        console.log(`${editing}/ holds the solution with every hunk that still applies; the others are in ${rejectedFile}.`);
        console.log(`Make the same mistake again by hand, then: npm run mistake -- save ${chapterNumber(ch)} ${name}`);
      } else {
        console.log(`The variant ${name} is in ${editing}/. Edit it, then: npm run mistake -- save ${chapterNumber(ch)} ${name}`);
      }
    } else {
      cpSync(abs(`solutions/${ch.id}`), abs(editing), { recursive: true });
      if (known) {
        // Listed in the manifest, but its patch is not written yet: start from the solution, as for a new name.
        console.log(`${name} is in the manifest but has no patch yet: ${editing}/ holds a copy of solutions/${ch.id}/. Make the mistake there, then: npm run mistake -- save ${chapterNumber(ch)} ${name}`);
      } else {
        console.log(`A new mistake: ${editing}/ holds a copy of solutions/${ch.id}/. Make the one mistake there, then save it,`);
        console.log(`and add { name: '${name}', what, caughtBy } to the chapter's mistakes in chapters/manifest.ts.`);
      }
    }
    console.log(`Run the suite against it meanwhile: WORKBOOK_IMPL=${editing} npx vitest run tests/${ch.id}/`);
    break;
  }
  case 'save':
  case 'diff': {
    const ch = chapterOf(args[0]);
    const name = args[1] ?? die(USAGE);
    const { editing, patch } = mistakePaths(ch, name);
    if (!existsSync(abs(editing))) die(`Nothing to ${command}: ${editing}/ does not exist. Start with: npm run mistake -- edit ${chapterNumber(ch)} ${name}`, 1);
    // A folder made from an older solution would save a patch that also undoes the solution's newer changes.
    const base = existsSync(baseFile(editing)) ? readFileSync(baseFile(editing), 'utf8').trim() : undefined;
    if (base !== undefined && base !== solutionHash(ch)) {
      die(
        `solutions/${ch.id}/ changed after ${editing}/ was made, so its patch would also undo those changes. Start again from the new solution (your edits there are discarded; copy what you need first): npm run mistake -- edit ${chapterNumber(ch)} ${name} --force`,
        1,
      );
    }
    let text: string;
    try {
      text = diffAgainstSolution(ch, abs(editing));
    } catch (err) {
      die(err instanceof PatchError ? err.message : String(err), 1);
    }
    if (command === 'diff') {
      process.stdout.write(text);
      break;
    }
    if (text === '') die(`${editing}/ is the same as solutions/${ch.id}/: a mistake must change something. Nothing was written.`, 1);
    mkdirSync(path.dirname(abs(patch)), { recursive: true });
    writeFileSync(abs(patch), text);
    const plus = (text.match(/^\+(?!\+\+)/gm) ?? []).length;
    const minus = (text.match(/^-(?!--)/gm) ?? []).length;
    console.log(`Wrote ${patch} (+${plus}/-${minus} lines). The editing folder stays until the next edit; the self-check builds the variant from the patch.`);
    break;
  }
  default:
    die(command ? `Unknown command "${command}".\n${USAGE}` : USAGE);
}

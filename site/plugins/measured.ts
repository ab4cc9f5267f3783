/**
 * `::: measured` ... `:::` in a lesson draws the chapter's benchmark chart, at build time, from
 * the reference run a maintainer recorded (`npm run bench -- <ch> --record`, kept in
 * bench/results/<id>.json). The container's body becomes the caption; under it go where and how
 * the figures were measured, and the figures themselves in a table (collapsed), so the chart's
 * content is there as text too. The chart is static SVG drawn in currentColor (bench/chart.ts):
 * no script runs in the browser, and it follows the page's theme.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { MarkdownIt, RendererRule } from 'markdown-it';
import container from 'markdown-it-container';
import { chapterNumber } from '../../chapters/manifest.ts';
import { chartOf, renderChart } from '../../bench/chart.ts';
import type { Benchmark, BenchResult } from '../../bench/framework.ts';
import { measuredSubjects, samplesPerPoint } from '../../bench/framework.ts';
import { loadAllBenchmarks, resultsFile } from '../../bench/registry.ts';
import type { RenderEnv } from '../env.ts';
import { SiteBuildError } from '../errors.ts';
import { escapeHtml } from '../template/html.ts';

/** Loaded once, when the site's renderer is first imported: markdown-it's rules are synchronous. */
const benchmarks = await loadAllBenchmarks();

/** The figures as an HTML table per metric. */
function figuresTable(b: Benchmark, result: BenchResult): string {
  const subjects = measuredSubjects(result);
  const axis = b.axis.charAt(0).toUpperCase() + b.axis.slice(1);
  return b.metrics
    .map((metric) => {
      const head = `<tr><th scope="col">${escapeHtml(axis)}</th>${subjects.map((s) => `<th scope="col">${escapeHtml(s.label)}</th>`).join('')}</tr>`;
      const rows = b.points
        .map((p) => {
          const row = result.stats[metric.key]?.[p.key] ?? {};
          const cells = subjects.map((s) => {
            const st = row[s.kind];
            if (!st) return '<td>-</td>';
            const range = st.n > 1 && st.min !== st.max ? ` (${metric.format(st.min)} to ${metric.format(st.max)})` : '';
            return `<td>${escapeHtml(metric.format(st.median) + range)}</td>`;
          });
          return `<tr><th scope="row">${escapeHtml(p.label)}</th>${cells.join('')}</tr>`;
        })
        .join('');
      return `<table><caption>${escapeHtml(`${metric.label}, ${metric.better} is better: median (min to max)`)}</caption><thead>${head}</thead><tbody>${rows}</tbody></table>`;
    })
    .join('\n');
}

/** How the lines were chosen from the runs. */
function howDrawn(b: Benchmark, result: BenchResult): string {
  if (b.chart.kind === 'series') {
    const primary = b.metrics.find((m) => m.key === b.primary)!;
    return result.rounds > 1 ? `each line is the run with the median "${primary.label}" of ${result.rounds}` : 'one run';
  }
  const samples = samplesPerPoint(result);
  return samples > 1 ? `median of ${samples} runs, bars from the lowest to the highest` : 'one run';
}

/** Register the `measured` container. */
export function measuredPlugin(md: MarkdownIt): void {
  const render: RendererRule = (tokens, idx, _opts, renderEnv) => {
    const env = renderEnv as RenderEnv;
    const chapter = env.chapter;
    // The closing token carries the end of the figure, which the opening token worked out.
    if (tokens[idx]!.nesting !== 1) return `${String(tokens[idx]!.meta?.html ?? '')}\n`;
    if (!chapter) throw new SiteBuildError('ERR_MEASURED', `${env.source}: "::: measured" draws a chapter's benchmark, so it belongs in a chapter's lesson.`);
    const b = benchmarks.get(chapter.id);
    if (!b) throw new SiteBuildError('ERR_MEASURED', `${env.source}: "::: measured" needs a benchmark for ${chapter.id} in bench/registry.ts; there is none.`);
    const file = resultsFile(chapter.id);
    const ref = chapterNumber(chapter);
    if (!existsSync(file)) {
      throw new SiteBuildError('ERR_MEASURED', `${env.source}: "::: measured" draws ${file}, which does not exist. Record the reference run on an idle machine: npm run bench -- ${ref} --record`);
    }
    let result: BenchResult;
    try {
      result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
    } catch (err) {
      throw new SiteBuildError('ERR_MEASURED', `${env.source}: ${file} is not valid JSON (${(err as Error).message}). Record it again: npm run bench -- ${ref} --record`);
    }
    const data = chartOf(b, result);
    const m = result.machine;
    const when = m.date.slice(0, 10);
    const level = tokens[idx]!.level;
    const close = tokens.find((t, j) => j > idx && t.type === 'container_measured_close' && t.level === level)!;
    close.meta = {
      html:
        `<p class="bench-note">Measured with <code>npm run bench -- ${ref}</code> on ${m.cores} cores (${escapeHtml(m.cpu)}), Node ${escapeHtml(m.node)}, ${when}; ` +
        `${howDrawn(b, result)}. Measure your own code: <code>npm run workbook -- bench ${ref}</code>.</p>` +
        `</figcaption><details class="bench-figures"><summary>The figures</summary>${figuresTable(b, result)}</details></figure>`,
    };
    return `<figure class="diagram bench-figure"><div class="diagram-svg" role="img" aria-label="${escapeHtml(data.description)}">${renderChart(data, { standalone: false })}</div><figcaption>\n`;
  };
  md.use(container, 'measured', { render });
}

// The live view of one run: a progress bar per downloading file, the stats (policy and PRM
// tokens/s, tokens generated, PRM tokens fed against whole-prefix re-scoring, KV memory,
// elapsed), the leading answer with its votes, and the tree fed with the search's events.
import { bytes } from './cache.js';
import { renderMath } from './render.js';

const $ = (id) => document.getElementById(id);

export class LiveView {
  constructor(tree) {
    this.tree = tree;
    this.bars = new Map();
    this.reset();
  }

  reset() {
    this.bars.clear();
    $('downloads').replaceChildren();
    $('stats').replaceChildren();
    $('leader').replaceChildren();
    this.tree.reset();
    this.started = performance.now();
    this.counters = { generated: 0, prmFed: 0, rescore: 0, genSeconds: 0, prmSeconds: 0, last: null };
    this.decode = { tokensPerSecond: 0, kvInUse: 0, kvBlocks: 0 };
    this.votes = new Map();
    this.leading = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  /** A loadModel progress event of model `label` ("policy" or "PRM"). */
  progress(label, p) {
    if (p.phase === 'download' || p.phase === 'load') {
      // One row per file: its download, then its reading into the model.
      const key = `${label}:${p.file}`;
      let bar = this.bars.get(key);
      if (!bar) {
        const row = document.createElement('div');
        row.className = 'download';
        const name = document.createElement('span');
        const meter = document.createElement('progress');
        meter.max = 1;
        row.append(name, meter);
        $('downloads').append(row);
        bar = { row, name, meter };
        this.bars.set(key, bar);
      }
      const verb = p.phase === 'download' ? 'downloading' : 'reading';
      const done = p.total > 0 && p.loaded >= p.total;
      bar.meter.value = p.total > 0 ? p.loaded / p.total : 0;
      bar.name.textContent = done && p.phase === 'load'
        ? `${label}: ${p.file} (${bytes(p.total)}) ready`
        : `${label}: ${verb} ${p.file} (${bytes(p.loaded)} of ${bytes(p.total)})`;
      bar.row.classList.toggle('done', done && p.phase === 'load');
    } else if (p.phase === 'cache') {
      const row = document.createElement('p');
      row.className = 'warning';
      row.textContent = `${p.file} could not be cached (${p.reason}): it will download again next time. ` +
        'Free space in Cached models below.';
      $('downloads').append(row);
    } else if (p.phase === 'device') {
      const row = document.createElement('p');
      row.className = 'muted';
      row.textContent = `${label}: ${p.device === 'webgpu' ? 'on the GPU' : 'on the CPU'} in ${p.dtype}, ` +
        `${bytes(p.totalBytes)} (${p.reason}).`;
      $('downloads').append(row);
    }
  }

  /** Starts the stats clock (elapsed time ticks while the search runs). */
  startSearch(policy) {
    this.policyInfo = policy.info;
    this.started = performance.now();
    this.timer = setInterval(() => this.drawStats(), 500);
    this.drawStats();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.drawStats();
  }

  /** One search event. */
  event(e) {
    if (e.event === 'progress') {
      if (e.phase === 'decode') {
        this.decode = { tokensPerSecond: e.tokensPerSecond, kvInUse: e.kvBlocksInUse, kvBlocks: e.kvBlocks };
        this.counters.generated = Math.max(this.counters.generated, e.generatedTokens);
      } else {
        // Between two search progress events the engine either generated or scored: the
        // time goes to whichever counter moved.
        const c = this.counters;
        const dt = c.last === null ? e.seconds : e.seconds - c.last;
        if (e.prmTokensFed > c.prmFed && e.generatedTokens <= c.generatedAtLast) c.prmSeconds += dt;
        else c.genSeconds += dt;
        c.last = e.seconds;
        c.generatedAtLast = e.generatedTokens;
        c.generated = Math.max(c.generated, e.generatedTokens);
        c.prmFed = e.prmTokensFed;
        c.rescore = e.prmRescoreTokens;
        this.decode.kvInUse = e.policyKvBlocks;
      }
      return;
    }
    if (e.event === 'completed') {
      const key = e.answer || '(none)';
      this.votes.set(key, (this.votes.get(key) ?? 0) + 1);
      this.drawLeader();
    } else if (e.event === 'answer_changed') {
      this.leading = e.answer;
      this.drawLeader();
    } else if (e.event === 'auto_chose') {
      const p = document.createElement('p');
      p.textContent = `Auto chose ${e.strategy} with N = ${e.n} (${e.reason}).`;
      $('downloads').append(p);
    }
    // The tree's counts follow the tree (at most every 100 ms), not only the clock's tick.
    if (this.tree.handle(e) && performance.now() - (this.statsDrawn ?? 0) > 100) this.drawStats();
  }

  drawLeader() {
    const box = $('leader');
    box.replaceChildren();
    if (this.leading !== null) {
      const label = document.createElement('span');
      label.textContent = 'Leading answer: ';
      const math = document.createElement('span');
      math.className = 'answer';
      renderMath(math, this.leading);
      box.append(label, math);
    }
    if (this.votes.size > 0) {
      const list = document.createElement('p');
      list.className = 'muted';
      const sorted = [...this.votes].sort((a, b) => b[1] - a[1]);
      list.textContent = `Finished solutions by answer: ${sorted.map(([a, n]) => `${a} ×${n}`).join(', ')}`;
      box.append(list);
    }
  }

  drawStats() {
    this.statsDrawn = performance.now();
    const c = this.counters;
    const elapsed = (performance.now() - this.started) / 1000;
    const policyRate = c.genSeconds > 0 ? c.generated / c.genSeconds : this.decode.tokensPerSecond;
    const prmRate = c.prmSeconds > 0 ? c.prmFed / c.prmSeconds : 0;
    const blocks = this.decode.kvBlocks || this.policyInfo?.kvBlocks || 0;
    const positions = (this.policyInfo?.blockSize ?? 16) * this.decode.kvInUse;
    const kv = blocks > 0
      ? `${this.decode.kvInUse} of ${blocks} blocks (${positions} positions, ${((100 * this.decode.kvInUse) / blocks).toFixed(0)}%)`
      : `${this.decode.kvInUse} blocks`;
    const counts = this.tree.counts();
    const rows = [
      ['policy', `${policyRate.toFixed(1)} tokens/s`],
      ['verifier', prmRate > 0 ? `${prmRate.toFixed(0)} tokens/s` : '–'],
      ['generated', `${c.generated} tokens`],
      ['verifier read', c.rescore > 0 ? `${c.prmFed} tokens (re-scoring every prefix: ${c.rescore})` : `${c.prmFed} tokens`],
      ['KV cache', kv],
      ['tree', `${counts.steps} steps, ${counts.pruned} pruned, ${counts.completed} finished`],
      ['elapsed', `${elapsed.toFixed(1)} s`],
    ];
    $('stats').replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.dataset.stat = k;
      return [dt, dd];
    }));
  }

  /** Tokens/s measured by a finished search: { policy, prm } (for the budget line). */
  static speedOf(report) {
    return {
      policy: report.seconds.generate > 0 ? report.generatedTokens / report.seconds.generate : 0,
      prm: report.seconds.score > 0 ? report.prmTokensFed / report.seconds.score : 0,
    };
  }
}

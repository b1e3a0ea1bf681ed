// The budget line: what a strategy and its parameters will cost before the search runs (tokens
// the policy generates, tokens the PRM reads, incrementally and under search-and-learn's
// whole-prefix re-scoring) and, once this device has been measured, about how long.

/** A typical MATH solution: about this many tokens in about this many steps. */
export const TYPICAL_TOKENS = 400;
export const TYPICAL_STEPS = 8;

/**
 * Estimates a search's cost: { paths, generated, prmTokens, rescoreTokens, upper }. `upper`
 * is the most tokens the policy can generate (every path running to `maxTokens`).
 */
export function estimate(params, { promptTokens = 100, verifier = 'prm' } = {}) {
  const n = params.strategy === 'cot' ? 1 : Math.max(1, params.n);
  const length = Math.min(params.maxTokens, TYPICAL_TOKENS);
  const steps = Math.max(1, Math.min(params.numIterations, TYPICAL_STEPS));
  let generated = n * length;
  let upper = n * params.maxTokens;
  if (params.strategy === 'beam' || params.strategy === 'dvts') {
    // Every iteration extends each live path by one step; a step is at most maxTokens.
    upper = n * params.numIterations * params.maxTokens;
    if (params.lookahead > 0) generated += n * steps * params.lookahead * (length / steps);
  }
  const scored = params.strategy === 'cot' || params.strategy === 'majority' ? 0 : 1;
  const prmTokens = scored * n * (promptTokens + length);
  // Re-scoring feeds the prompt and the whole path again after every step.
  const perStep = length / steps;
  let rescoreTokens = prmTokens;
  if (params.strategy === 'beam' || params.strategy === 'dvts') {
    rescoreTokens = 0;
    for (let s = 1; s <= steps; s++) rescoreTokens += n * (promptTokens + s * perStep);
  }
  return { paths: n, generated, upper, prmTokens, rescoreTokens, verifier };
}

const fmt = (x) => (x >= 10_000 ? `${(x / 1000).toFixed(0)}k` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : `${Math.round(x)}`);

/** The budget line for `params`; `speed` ({ policy, prm } tokens/s measured here) adds a time. */
export function budgetLine(params, { promptTokens, verifier, speed } = {}) {
  if (params.strategy === 'auto') {
    return 'Auto: a few probe samples first, then the compute-optimal strategy for the difficulty they show.';
  }
  const e = estimate(params, { promptTokens, verifier });
  const judge = verifier === 'self' ? 'self-verifier' : 'PRM';
  let line = `About ${fmt(e.generated)} tokens to generate (${e.paths} path${e.paths === 1 ? '' : 's'}, at most ${fmt(e.upper)})`;
  if (e.prmTokens > 0) {
    line += `; ${judge} reads about ${fmt(e.prmTokens)} tokens`;
    if (e.rescoreTokens > e.prmTokens) line += ` (re-scoring every prefix would be ${fmt(e.rescoreTokens)})`;
  }
  if (speed?.policy > 0) {
    const seconds = e.generated / speed.policy + (speed.prm > 0 ? e.prmTokens / speed.prm : 0);
    line += `; about ${duration(seconds)} on this device`;
  }
  return `${line}.`;
}

/** "45 s", "3 min", "1.2 h". */
export function duration(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

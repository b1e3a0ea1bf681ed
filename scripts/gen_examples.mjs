// Writes www/examples.json, the demo page's example problems: six MATH-500 problems per level
// (those without [asy] figures, spread over the subjects) and six AIME 2024 problems, each with
// its gold answer and where it came from.
// Usage: node scripts/gen_examples.mjs DATA_DIR   (DATA_DIR holds math500.jsonl and aime24.jsonl)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/gen_examples.mjs DATA_DIR');
  process.exit(2);
}
const lines = (file) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const math = lines('math500.jsonl').filter((p) => !p.problem.includes('[asy]') && p.problem.length < 400);
const problems = [];
for (let level = 1; level <= 5; level++) {
  const pool = math.filter((p) => p.level === `Level ${level}`);
  const seen = new Set();
  // One per subject first, in file order, then the rest.
  for (const p of [...pool.filter((p) => !seen.has(p.subject) && seen.add(p.subject)), ...pool]) {
    if (problems.filter((q) => q.level === `Level ${level}`).length === 6) break;
    if (problems.some((q) => q.id === p.unique_id)) continue;
    problems.push({ id: p.unique_id, set: 'MATH-500', level: p.level, subject: p.subject, problem: p.problem, answer: p.answer });
  }
}
const aime = lines('aime24.jsonl').filter((p) => p.problem.length < 600).slice(0, 6);
aime.forEach((p) => {
  const n = /(\d{4})_AIME_(I+)_Problems\/Problem_(\d+)/.exec(p.url ?? '');
  problems.push({
    id: n ? `${n[1]} AIME ${n[2]} #${n[3]}` : p.url,
    set: 'AIME24',
    level: 'AIME',
    subject: 'Competition',
    problem: p.problem,
    answer: String(Number(p.extracted_groundtruth)),
  });
});
const out = {
  license:
    'MATH-500: problems and answers of the MATH dataset (Hendrycks et al., 2021, MIT License), in the ' +
    '500-problem test subset of PRM800K (OpenAI, MIT License). AIME24: problems of the 2024 American ' +
    'Invitational Mathematics Examination (MAA), as collected with answers by the compute-optimal-tts ' +
    'project (MIT License).',
  problems,
};
writeFileSync(new URL('../www/examples.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(`examples: ${problems.length} problems`);

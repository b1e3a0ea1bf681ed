// The example problems (www/examples.json: MATH-500 by level and AIME24, with gold answers):
// fills the Examples menu, and the problem box when one is picked.

const $ = (id) => document.getElementById(id);

/** Loads the examples into the menu; `onPick(example | null)` runs when the choice changes. */
export async function setupExamples(onPick) {
  const response = await fetch(new URL('examples.json', import.meta.url));
  const { license, problems } = await response.json();
  const select = $('examples');
  const groups = new Map();
  problems.forEach((p, i) => {
    const group = p.set === 'AIME24' ? 'AIME 2024' : `MATH-500, ${p.level}`;
    if (!groups.has(group)) {
      const g = document.createElement('optgroup');
      g.label = group;
      groups.set(group, g);
      select.append(g);
    }
    const option = document.createElement('option');
    option.value = String(i);
    const flat = p.problem.replace(/\s+/g, ' ');
    option.textContent = `${p.subject}: ${flat.length > 70 ? `${flat.slice(0, 67)}…` : flat}`;
    groups.get(group).append(option);
  });
  $('license').textContent = `Examples: ${license}`;
  select.addEventListener('change', () => {
    const example = select.value === '' ? null : problems[Number(select.value)];
    if (example) $('problem').value = example.problem;
    onPick(example);
  });
  $('problem').addEventListener('input', () => {
    // Editing the text makes it the user's own problem: no gold answer any more.
    if (select.value !== '' && $('problem').value !== problems[Number(select.value)].problem) {
      select.value = '';
      onPick(null);
    }
  });
  return problems;
}

// The cache manager: the models Cache Storage holds, their sizes, and a delete button each.
import { deleteCachedModel, listCachedModels } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);

/** "253 MB", "3.1 GB". */
export function bytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} bytes`;
}

/** Redraws the cache table; resolves to the ids cached. `onChange` runs after a delete. */
export async function showCache(onChange) {
  const models = await listCachedModels();
  const body = $('cache').querySelector('tbody');
  body.replaceChildren(...models.map((m) => {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    name.textContent = m.id;
    const files = document.createElement('td');
    files.textContent = m.files.map((f) => f.name).join(', ');
    const size = document.createElement('td');
    size.textContent = bytes(m.bytes);
    const action = document.createElement('td');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Delete';
    button.setAttribute('aria-label', `Delete ${m.id} from the cache`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      await deleteCachedModel(m.id);
      await showCache(onChange);
      onChange?.();
    });
    action.append(button);
    tr.append(name, files, size, action);
    return tr;
  }));
  const total = models.reduce((sum, m) => sum + m.bytes, 0);
  $('cache-summary').textContent = models.length === 0
    ? 'No models are cached.'
    : `${models.length} model${models.length === 1 ? '' : 's'} cached, ${bytes(total)} in all.`;
  $('cache').hidden = models.length === 0;
  if (navigator.storage?.estimate) {
    const { usage, quota } = await navigator.storage.estimate();
    $('cache-summary').textContent += ` This site may store up to ${bytes(quota)} (${bytes(usage)} used).`;
  }
  return new Set(models.map((m) => m.id));
}

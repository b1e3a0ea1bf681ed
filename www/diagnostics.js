// The diagnostics panel: the WebGPU adapter's table and the kernel self-check (every GPU kernel
// on random inputs against the CPU implementation). The panel's data-check ends as "pass",
// "fail", "no-webgpu" or "error" (tests read it).
import { createGpu, isTtsearchError } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
let gpu = null;

function row(cells, tag = 'td') {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement(tag);
    td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function showAdapter(info) {
  $('adapter').querySelector('tbody').replaceChildren(
    row(['adapter', info.name || '(hidden by the browser)']),
    row(['backend', `${info.backend} (${info.device_type})`]),
    row(['driver', `${info.driver} ${info.driver_info}`.trim() || '(not reported)']),
    row(['shader-f16', info.shader_f16 ? 'available (not needed)' : 'not available (not needed)']),
    row(['max buffer', mib(info.limits.max_buffer_size)]),
    row(['max storage binding', mib(info.limits.max_storage_buffer_binding_size)]),
    row(['workgroup', `${info.limits.max_compute_invocations_per_workgroup} invocations, ` +
      `${info.limits.max_compute_workgroup_storage_size} bytes shared`]),
  );
  $('adapter').hidden = false;
}

/** Acquires the device (once) and fills the adapter table; false without WebGPU. */
async function ensureGpu() {
  if (gpu) return true;
  try {
    gpu = await createGpu();
  } catch (error) {
    const panel = $('diagnostics');
    if (isTtsearchError(error) && (error.code === 'no_webgpu' || error.code === 'no_adapter')) {
      panel.dataset.check = 'no-webgpu';
      $('check-summary').textContent = `No WebGPU here (${error.code}): ${error.message}`;
      return false;
    }
    panel.dataset.check = 'error';
    $('check-summary').textContent = `Error [${error.code ?? 'unknown'}]: ${error.message}`;
    return false;
  }
  showAdapter(gpu.info());
  return true;
}

async function selfCheck() {
  const panel = $('diagnostics');
  $('rerun').disabled = true;
  panel.dataset.check = 'checking';
  $('check-summary').textContent = 'Running…';
  try {
    if (!(await ensureGpu())) return;
    const seed = Math.floor(Math.random() * 2 ** 32);
    const started = performance.now();
    const report = await gpu.selfCheck(seed);
    const ms = performance.now() - started;
    $('checks').querySelector('tbody').replaceChildren(...report.cases.map((c) => {
      const tr = row([c.kernel, `[${c.shape.join(', ')}]`, c.max_abs_error.toExponential(2),
        c.tolerance.toExponential(2), c.passed ? 'pass' : 'FAIL']);
      tr.className = c.passed ? 'pass' : 'fail';
      return tr;
    }));
    $('checks').hidden = false;
    const failed = report.cases.filter((c) => !c.passed).length;
    $('check-summary').textContent = failed === 0
      ? `All ${report.cases.length} cases passed (seed ${seed}, ${ms.toFixed(0)} ms).`
      : `${failed} of ${report.cases.length} cases FAILED (seed ${seed}).`;
    panel.dataset.check = failed === 0 ? 'pass' : 'fail';
  } catch (error) {
    panel.dataset.check = 'error';
    $('check-summary').textContent = `Error [${error.code ?? 'unknown'}]: ${error.message}`;
  } finally {
    $('rerun').disabled = false;
  }
}

/** Wires the panel: the adapter table fills when it opens; the button runs the self-check. */
export function setupDiagnostics() {
  $('diagnostics').addEventListener('toggle', () => {
    if ($('diagnostics').open) ensureGpu().catch(() => {});
  });
  $('rerun').addEventListener('click', () => selfCheck());
}

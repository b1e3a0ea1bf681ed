// The demo page: reports the WebGPU adapter and runs the kernel self-check.
// document.body.dataset.status ends as "pass", "fail", "no-webgpu" or "error" (tests read it).
import { createGpu, isTtsearchError, version } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);

function setStatus(status, text) {
  document.body.dataset.status = status;
  $('status').textContent = text;
}

function row(cells, tag = 'td') {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement(tag);
    td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function showAdapter(info) {
  const body = $('adapter').querySelector('tbody');
  body.replaceChildren(
    row(['adapter', info.name || '(hidden by the browser)']),
    row(['backend', `${info.backend} (${info.device_type})`]),
    row(['shader-f16', info.shader_f16 ? 'available (not needed)' : 'not available (not needed)']),
    row(['max buffer', mib(info.limits.max_buffer_size)]),
    row(['max storage binding', mib(info.limits.max_storage_buffer_binding_size)]),
    row(['workgroup', `${info.limits.max_compute_invocations_per_workgroup} invocations, ` +
      `${info.limits.max_compute_workgroup_storage_size} bytes shared`]),
  );
  $('adapter').hidden = false;
}

async function selfCheck(gpu) {
  $('rerun').disabled = true;
  document.body.dataset.status = 'checking';
  $('check-summary').textContent = 'Running…';
  const seed = Math.floor(Math.random() * 2 ** 32);
  const started = performance.now();
  const report = await gpu.selfCheck(seed);
  const ms = performance.now() - started;
  const body = $('checks').querySelector('tbody');
  body.replaceChildren(...report.cases.map((c) => {
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
  setStatus(failed === 0 ? 'pass' : 'fail', failed === 0 ? 'WebGPU works.' : 'WebGPU kernels disagree with the CPU.');
  $('rerun').disabled = false;
}

async function main() {
  $('version').textContent = `ttsearch ${await version()}`;
  let gpu;
  try {
    gpu = await createGpu();
  } catch (error) {
    if (isTtsearchError(error) && (error.code === 'no_webgpu' || error.code === 'no_adapter')) {
      setStatus('no-webgpu', `No WebGPU here (${error.code}): ${error.message}`);
      return;
    }
    throw error;
  }
  showAdapter(gpu.info());
  setStatus('checking', 'WebGPU device ready.');
  $('rerun').addEventListener('click', () => selfCheck(gpu).catch(fail));
  await selfCheck(gpu);
}

function fail(error) {
  const code = isTtsearchError(error) ? ` [${error.code}]` : '';
  setStatus('error', `Error${code}: ${error.message}`);
  console.error(error);
}

main().catch(fail);

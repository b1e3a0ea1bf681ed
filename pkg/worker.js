// The dedicated module Worker that holds models and runs searches for a page (the default in
// browsers): it answers index.js's messages with core.js, forwarding progress, events and text
// as messages and taking aborts as messages.
import * as core from './core.js';
import { serializeError } from './errors.js';

const handles = new Map();
let nextHandle = 1;
const aborts = new Map();

function keep(object) {
  const handle = nextHandle++;
  handles.set(handle, object);
  return handle;
}

function get(handle) {
  const object = handles.get(handle);
  if (!object) throw Object.assign(new Error('this object is gone (disposed, or its worker restarted)'), { name: 'TtsearchError', code: 'invalid_argument' });
  return object;
}

function describeModel(handle, model) {
  return { handle, info: model.info, role: model.role, prmKind: model.prmKind };
}

async function run(id, op, args) {
  const post = (name, ...values) => self.postMessage({ id, kind: 'callback', name, args: values });
  const signal = aborts.get(id)?.signal;
  switch (op) {
    case 'loadModel': {
      const [source, options] = args;
      const model = await core.loadModel(source, { ...options, signal, onProgress: options.onProgress ? (p) => post('onProgress', p) : undefined });
      return describeModel(keep(model), model);
    }
    case 'generate': {
      const [handle, prompt, options] = args;
      return get(handle).generate(prompt, {
        ...options,
        signal,
        onText: options.onText ? (piece, index) => post('onText', piece, index) : undefined,
        onEvent: options.onEvent ? (e) => post('onEvent', e) : undefined,
      });
    }
    case 'score': {
      const [handle, question, steps, options] = args;
      return get(handle).score(question, steps, { ...options, signal });
    }
    case 'kvBlocksInUse':
      return get(args[0]).kvBlocksInUse();
    case 'disposeModel': {
      const model = get(args[0]);
      await model.dispose();
      handles.delete(args[0]);
      return null;
    }
    case 'createSolver': {
      const [{ policy, prm, verifier, prmKind }] = args;
      const solver = await core.createSolver({ policy: get(policy), prm: prm ? get(prm) : undefined, verifier, prmKind });
      return keep(solver);
    }
    case 'solve': {
      const [handle, problem, params, options] = args;
      return get(handle).solve(problem, params, { signal, onEvent: options.onEvent ? (e) => post('onEvent', e) : undefined });
    }
    case 'disposeSolver':
      handles.delete(args[0]);
      return null;
    case 'listCachedModels':
      return core.listCachedModels();
    case 'deleteCachedModel':
      return core.deleteCachedModel(args[0]);
    case 'deviceBufferStats':
      return core.deviceBufferStats();
    case 'crashForTesting':
      return core.crashForTesting();
    case 'loseDeviceForTesting':
      return core.loseDeviceForTesting();
    case 'wasmMemoryBytes':
      return core.wasmMemoryBytes();
    case 'heapStats':
      return core.heapStats();
    case 'resetHeapPeak':
      return core.resetHeapPeak();
    default:
      throw Object.assign(new Error(`unknown operation ${op}`), { name: 'TtsearchError', code: 'internal' });
  }
}

self.onmessage = async ({ data }) => {
  const { id, op, args } = data;
  if (op === 'abort') {
    aborts.get(id)?.abort();
    return;
  }
  aborts.set(id, new AbortController());
  try {
    const value = await run(id, op, args);
    self.postMessage({ id, kind: 'result', value });
  } catch (error) {
    const e = serializeError(error);
    // A crashed instance is gone with everything in it: the page starts a new worker.
    self.postMessage({ id, kind: 'error', error: e, crashed: e.code === 'internal' && /crashed/.test(e.message) });
  } finally {
    aborts.delete(id);
  }
};

// The errors ttsearch throws: `Error`s named "TtsearchError" with a stable `code`, whether they
// come from the WebAssembly module or from the JS around it (downloads, workers).

/** An error with a stable `code` (see index.d.ts for the list). */
export class TtsearchError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'TtsearchError';
    this.code = code;
  }
}

/** Whether `error` came from ttsearch (and so carries a stable `code`). */
export function isTtsearchError(error) {
  return error instanceof Error && error.name === 'TtsearchError' && typeof error.code === 'string';
}

/** A plain object for postMessage, and back. */
export function serializeError(error) {
  if (isTtsearchError(error)) return { code: error.code, message: error.message };
  return { code: 'internal', message: String(error?.message ?? error) };
}

export function deserializeError(data) {
  return new TtsearchError(data.code, data.message);
}

// Math and Markdown rendering for the page: KaTeX for formulas, marked for Markdown, DOMPurify
// for everything model-written (a model's text is never trusted as HTML).
import katex from 'katex';
import { Marked } from 'marked';
import markedKatex from 'marked-katex-extension';
import DOMPurify from 'dompurify';

const markdown = new Marked(markedKatex({ throwOnError: false, nonStandard: true, output: 'html' }));

/** Rewrites the \( \) and \[ \] delimiters models and datasets use into $ and $$. */
export function normalizeMath(text) {
  return text
    .replace(/\\\[([\s\S]*?)\\\]/g, (_, tex) => `\n$$\n${tex.trim()}\n$$\n`)
    .replace(/\\\(([\s\S]*?)\\\)/g, (_, tex) => `$${tex.trim()}$`);
}

/** Renders Markdown with math (`text` from a model or a dataset) into `element`. */
export function renderMarkdown(element, text) {
  const html = markdown.parse(normalizeMath(text ?? ''), { async: false });
  element.innerHTML = DOMPurify.sanitize(html);
}

/** Renders one formula (an answer) into `element`; falls back to plain text. */
export function renderMath(element, tex, { displayMode = false } = {}) {
  try {
    katex.render(tex, element, { throwOnError: true, displayMode });
  } catch {
    element.textContent = tex;
  }
}

// The live search tree: builds the tree from a solve's events (node 0 is the prompt) and draws
// it as SVG, one circle per step coloured by its PRM score, pruned nodes grey, completed ones
// ringed, the current best path highlighted. Redraws at most once per animation frame.

const SVG = 'http://www.w3.org/2000/svg';
const DX = 44; // pixels per step (depth)
const DY = 22; // pixels per leaf row
const R = 7; // node radius
const PAD = 16;

/** The colour of a score in [0, 1]: red (0) through amber to green (1). */
export function scoreColour(score) {
  if (!Number.isFinite(score)) return 'var(--muted)';
  const s = Math.min(1, Math.max(0, score));
  return `hsl(${Math.round(s * 120)} 70% 45%)`;
}

export class SearchTree {
  /** `svg`: the <svg> to draw in; `onSelect(node)`: a node was hovered, focused or tapped. */
  constructor(svg, onSelect) {
    this.svg = svg;
    this.onSelect = onSelect;
    this.selected = null;
    this.reset();
    const pick = (event) => {
      const id = event.target?.dataset?.node;
      if (id === undefined) return;
      this.selected = Number(id);
      this.onSelect(this.nodes.get(this.selected));
      this.schedule();
    };
    svg.addEventListener('mouseover', pick);
    svg.addEventListener('click', pick);
    svg.addEventListener('focusin', pick);
    svg.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') pick(event);
    });
  }

  /** Forgets every node but the prompt. */
  reset() {
    this.nodes = new Map([[0, { id: 0, parent: null, depth: 0, text: '', status: 'root', children: [] }]]);
    this.selected = null;
    this.schedule();
  }

  /** Counts of nodes by status. */
  counts() {
    const counts = { steps: this.nodes.size - 1, pruned: 0, completed: 0 };
    for (const n of this.nodes.values()) {
      if (n.status === 'pruned') counts.pruned += 1;
      if (n.completed) counts.completed += 1;
    }
    return counts;
  }

  /** Applies one search event; returns true when the tree changed. */
  handle(event) {
    switch (event.event) {
      case 'step_proposed': {
        const parent = this.nodes.get(event.parent) ?? this.nodes.get(0);
        const node = {
          id: event.node,
          parent: parent.id,
          depth: parent.depth + 1,
          iteration: event.iteration,
          text: event.text,
          scores: event.scores,
          aggregated: event.aggregated,
          status: 'live',
          children: [],
        };
        this.nodes.set(node.id, node);
        parent.children.push(node.id);
        break;
      }
      case 'pruned': {
        const node = this.nodes.get(event.node);
        if (!node) return false;
        node.status = 'pruned';
        node.reason = event.reason;
        break;
      }
      case 'completed': {
        const node = this.nodes.get(event.node);
        if (!node) return false;
        node.completed = true;
        node.answer = event.answer;
        node.aggregated = event.aggregated;
        break;
      }
      default:
        return false;
    }
    this.schedule();
    return true;
  }

  /** The node the best path ends in: the best completed one, else the best live leaf. */
  bestLeaf() {
    let best = null;
    const better = (n) => !best || (n.aggregated ?? -1) > (best.aggregated ?? -1);
    for (const n of this.nodes.values()) if (n.completed && better(n)) best = n;
    if (best) return best;
    let depth = 0;
    for (const n of this.nodes.values()) if (n.status === 'live') depth = Math.max(depth, n.depth);
    for (const n of this.nodes.values()) if (n.status === 'live' && n.depth === depth && better(n)) best = n;
    return best;
  }

  /** The ids from the prompt to `node`. */
  pathTo(node) {
    const path = new Set();
    for (let n = node; n; n = n.parent === null ? null : this.nodes.get(n.parent)) path.add(n.id);
    return path;
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  /** Lays the tree out (leaves in rows, parents centred over their children) and draws it. */
  draw() {
    const position = new Map();
    let row = 0;
    let depth = 0;
    const place = (id) => {
      const node = this.nodes.get(id);
      depth = Math.max(depth, node.depth);
      if (node.children.length === 0) {
        position.set(id, { x: PAD + node.depth * DX, y: PAD + row * DY });
        row += 1;
        return;
      }
      node.children.forEach(place);
      const ys = node.children.map((c) => position.get(c).y);
      position.set(id, { x: PAD + node.depth * DX, y: (Math.min(...ys) + Math.max(...ys)) / 2 });
    };
    place(0);
    const best = this.bestLeaf();
    const onPath = best ? this.pathTo(best) : new Set();
    const width = PAD * 2 + depth * DX;
    const height = PAD * 2 + Math.max(0, row - 1) * DY;
    this.svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.svg.setAttribute('width', String(width));
    this.svg.setAttribute('height', String(height));

    const edges = document.createElementNS(SVG, 'g');
    edges.setAttribute('class', 'edges');
    const dots = document.createElementNS(SVG, 'g');
    dots.setAttribute('class', 'nodes');
    for (const node of this.nodes.values()) {
      const p = position.get(node.id);
      if (node.parent !== null) {
        const q = position.get(node.parent);
        const line = document.createElementNS(SVG, 'path');
        const mid = (p.x + q.x) / 2;
        line.setAttribute('d', `M${q.x},${q.y} C${mid},${q.y} ${mid},${p.y} ${p.x},${p.y}`);
        line.setAttribute('class', onPath.has(node.id) ? 'edge best' : node.status === 'pruned' ? 'edge pruned' : 'edge');
        edges.append(line);
      }
      const dot = document.createElementNS(SVG, 'circle');
      dot.setAttribute('cx', String(p.x));
      dot.setAttribute('cy', String(p.y));
      dot.setAttribute('r', String(node.id === 0 ? R + 1 : R));
      const classes = ['node', node.status];
      if (node.completed) classes.push('completed');
      if (onPath.has(node.id)) classes.push('best');
      if (node.id === this.selected) classes.push('selected');
      dot.setAttribute('class', classes.join(' '));
      dot.dataset.node = String(node.id);
      if (node.id !== 0) {
        dot.setAttribute('tabindex', '0');
        dot.setAttribute('role', 'button');
        dot.setAttribute('aria-label', describe(node));
        if (node.status !== 'pruned') dot.style.fill = scoreColour(node.aggregated);
      }
      const title = document.createElementNS(SVG, 'title');
      title.textContent = node.id === 0 ? 'the problem' : describe(node);
      dot.append(title);
      dots.append(dot);
    }
    this.svg.replaceChildren(edges, dots);
    this.svg.dataset.nodes = String(this.nodes.size - 1);
  }
}

/** A one-line description of a node (its tooltip and label). */
export function describe(node) {
  const score = Number.isFinite(node.aggregated) ? node.aggregated.toFixed(3) : 'n/a';
  let text = `step ${node.depth}, score ${score}`;
  if (node.status === 'pruned') text += `, pruned (${REASONS[node.reason] ?? node.reason})`;
  if (node.completed) text += `, completed: answer ${node.answer || '(none)'}`;
  return text;
}

const REASONS = {
  score: 'a lower score than the beams kept',
  duplicate: 'the same text as another beam',
  sibling: 'a sibling scored higher',
};

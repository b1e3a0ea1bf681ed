// sample: one token per row of logits, chosen on the GPU so that only ids and logprobs are read
// back. logits: [rows, vocab]; draws: [rows, 4] = (temperature f32, top_p f32, top_k u32,
// u f32 in [0, 1)); out: [rows, 2 + 2 * top_n] = (token, logprob, then top_n (id, logprob)
// pairs, best first), logprobs from the untempered log-softmax.
// temperature 0: the argmax (lowest id on ties). Otherwise the tokens kept are those whose logit
// reaches both the top_k threshold (the k-th largest logit) and the top_p threshold (the largest
// logit v whose tokens at or above v hold at least top_p of the tempered mass), each found by
// bisection on the logit value; the token is then the inverse CDF at u * kept mass, walking the
// kept tokens in id order. One workgroup of 64 invocations per row.

struct Params {
    rows: u32,
    vocab: u32,
    top_n: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> draws: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

const LANES: u32 = 64u;
const BISECTIONS: u32 = 40u;
const MAX_TOP_N: u32 = 20u;
const LOWEST: f32 = -0x1.fffffep+127f;
const NONE: u32 = 0xffffffffu;

var<workgroup> part_f: array<f32, 64>;
var<workgroup> part_u: array<u32, 64>;
var<workgroup> shared_f: f32;
var<workgroup> shared_u: u32;
var<workgroup> chosen: array<u32, 20>;

// Sum of the lanes' values, the same in every lane.
fn sum_f(v: f32, lid: u32) -> f32 {
    part_f[lid] = v;
    workgroupBarrier();
    if (lid == 0u) {
        var s = 0.0;
        for (var i = 0u; i < LANES; i++) {
            s += part_f[i];
        }
        shared_f = s;
    }
    return workgroupUniformLoad(&shared_f);
}

fn min_f(v: f32, lid: u32) -> f32 {
    part_f[lid] = v;
    workgroupBarrier();
    if (lid == 0u) {
        var s = part_f[0];
        for (var i = 1u; i < LANES; i++) {
            s = min(s, part_f[i]);
        }
        shared_f = s;
    }
    return workgroupUniformLoad(&shared_f);
}

fn sum_u(v: u32, lid: u32) -> u32 {
    part_u[lid] = v;
    workgroupBarrier();
    if (lid == 0u) {
        var s = 0u;
        for (var i = 0u; i < LANES; i++) {
            s += part_u[i];
        }
        shared_u = s;
    }
    return workgroupUniformLoad(&shared_u);
}

// The best (value, lowest id) of the lanes' candidates: its id, the same in every lane.
fn best_id(v: f32, id: u32, lid: u32) -> u32 {
    part_f[lid] = v;
    part_u[lid] = id;
    workgroupBarrier();
    if (lid == 0u) {
        var bv = LOWEST;
        var bi = NONE;
        for (var i = 0u; i < LANES; i++) {
            if (part_u[i] != NONE && (bi == NONE || part_f[i] > bv || (part_f[i] == bv && part_u[i] < bi))) {
                bv = part_f[i];
                bi = part_u[i];
            }
        }
        shared_u = bi;
    }
    return workgroupUniformLoad(&shared_u);
}

fn is_chosen(i: u32, n: u32) -> bool {
    for (var j = 0u; j < n; j++) {
        if (chosen[j] == i) {
            return true;
        }
    }
    return false;
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let row = wid.x + wid.y * nwg.x;
    // Every lane of a workgroup has the same row: an early exit stays uniform.
    if (row >= params.rows) {
        return;
    }
    let vocab = params.vocab;
    let base = row * vocab;
    // Per-row draw, broadcast so that branching on it is uniform.
    if (lid == 0u) {
        shared_u = draws[row * 4u + 2u];
    }
    let top_k = workgroupUniformLoad(&shared_u);
    if (lid == 0u) {
        shared_f = bitcast<f32>(draws[row * 4u]);
    }
    let temperature = workgroupUniformLoad(&shared_f);
    if (lid == 0u) {
        shared_f = bitcast<f32>(draws[row * 4u + 1u]);
    }
    let top_p = workgroupUniformLoad(&shared_f);
    if (lid == 0u) {
        shared_f = bitcast<f32>(draws[row * 4u + 3u]);
    }
    let u = workgroupUniformLoad(&shared_f);

    // Max (with its lowest id) and min of the row.
    var m = LOWEST;
    var mi = NONE;
    var lo_v = 0x1.fffffep+127f;
    for (var i = lid; i < vocab; i += LANES) {
        let v = logits[base + i];
        if (mi == NONE || v > m) {
            m = v;
            mi = i;
        }
        lo_v = min(lo_v, v);
    }
    let arg = best_id(m, mi, lid);
    let row_max = logits[base + arg];
    let row_min = min_f(lo_v, lid);
    // Untempered normaliser.
    var z = 0.0;
    for (var i = lid; i < vocab; i += LANES) {
        z += exp(logits[base + i] - row_max);
    }
    let log_z = log(sum_f(z, lid));

    var token = arg;
    if (temperature > 0.0) {
        // top_k threshold: the largest t with at least top_k logits >= t.
        var kth = row_min;
        if (top_k > 0u && top_k < vocab) {
            var lo = row_min;
            var hi = row_max;
            for (var it = 0u; it < BISECTIONS; it++) {
                let mid = lo + (hi - lo) * 0.5;
                var c = 0u;
                for (var i = lid; i < vocab; i += LANES) {
                    c += select(0u, 1u, logits[base + i] >= mid);
                }
                if (sum_u(c, lid) >= top_k) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            // hi itself may still hold top_k logits (exact ties at the top).
            var c = 0u;
            for (var i = lid; i < vocab; i += LANES) {
                c += select(0u, 1u, logits[base + i] >= hi);
            }
            kth = select(lo, hi, sum_u(c, lid) >= top_k);
        }
        let inv_t = 1.0 / temperature;
        var w = 0.0;
        for (var i = lid; i < vocab; i += LANES) {
            let v = logits[base + i];
            if (v >= kth) {
                w += exp((v - row_max) * inv_t);
            }
        }
        let mass = sum_f(w, lid);
        // top_p threshold: the largest v whose tokens at or above it hold top_p of the mass.
        var pth = kth;
        if (top_p < 1.0) {
            var lo = kth;
            var hi = row_max;
            for (var it = 0u; it < BISECTIONS; it++) {
                let mid = lo + (hi - lo) * 0.5;
                var s = 0.0;
                for (var i = lid; i < vocab; i += LANES) {
                    let v = logits[base + i];
                    if (v >= mid) {
                        s += exp((v - row_max) * inv_t);
                    }
                }
                if (sum_f(s, lid) >= top_p * mass) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            var s = 0.0;
            for (var i = lid; i < vocab; i += LANES) {
                let v = logits[base + i];
                if (v >= hi) {
                    s += exp((v - row_max) * inv_t);
                }
            }
            pth = select(lo, hi, sum_f(s, lid) >= top_p * mass);
        }
        // Inverse CDF in id order: each lane owns a contiguous chunk of ids.
        let chunk = (vocab + LANES - 1u) / LANES;
        let first = lid * chunk;
        let last = min(first + chunk, vocab);
        var own = 0.0;
        for (var i = first; i < last; i++) {
            let v = logits[base + i];
            if (v >= pth) {
                own += exp((v - row_max) * inv_t);
            }
        }
        part_f[lid] = own;
        workgroupBarrier();
        if (lid == 0u) {
            var kept = 0.0;
            for (var j = 0u; j < LANES; j++) {
                kept += part_f[j];
            }
            let goal = u * kept;
            var acc = 0.0;
            var pick = NONE;
            var fallback = NONE;
            for (var j = 0u; j < LANES && pick == NONE; j++) {
                if (acc + part_f[j] > goal) {
                    // The token is in lane j's chunk.
                    let lane_first = j * chunk;
                    let lane_last = min(lane_first + chunk, vocab);
                    for (var i = lane_first; i < lane_last && pick == NONE; i++) {
                        let v = logits[base + i];
                        if (v >= pth) {
                            acc += exp((v - row_max) * inv_t);
                            fallback = i;
                            if (acc > goal) {
                                pick = i;
                            }
                        }
                    }
                } else {
                    acc += part_f[j];
                    if (part_f[j] > 0.0) {
                        // Remember the chunk's last kept id for rounding at the very end.
                        let lane_first = j * chunk;
                        let lane_last = min(lane_first + chunk, vocab);
                        for (var i = lane_last; i > lane_first; i--) {
                            if (logits[base + i - 1u] >= pth) {
                                fallback = i - 1u;
                                break;
                            }
                        }
                    }
                }
            }
            if (pick == NONE) {
                pick = select(arg, fallback, fallback != NONE);
            }
            shared_u = pick;
        }
        token = workgroupUniformLoad(&shared_u);
    }
    let width = 2u + 2u * params.top_n;
    if (lid == 0u) {
        out[row * width] = token;
        out[row * width + 1u] = bitcast<u32>(logits[base + token] - row_max - log_z);
    }
    // Top logprobs: repeated argmax, skipping the ids already taken.
    let top_n = min(params.top_n, MAX_TOP_N);
    for (var r = 0u; r < top_n; r++) {
        var bv = LOWEST;
        var bi = NONE;
        for (var i = lid; i < vocab; i += LANES) {
            let v = logits[base + i];
            if ((bi == NONE || v > bv) && !is_chosen(i, r)) {
                bv = v;
                bi = i;
            }
        }
        let id = best_id(bv, bi, lid);
        if (lid == 0u) {
            chosen[r] = id;
            out[row * width + 2u + 2u * r] = id;
            out[row * width + 3u + 2u * r] = bitcast<u32>(logits[base + id] - row_max - log_z);
        }
        workgroupBarrier();
    }
}

// rope: rotary embedding in place, rotate-half pairing (i with i + head_dim / 2).
// x: [n, heads, head_dim]; cos_sin: [n, head_dim / 2, 2], the cosine and sine of each new
// token's angles, computed on the CPU: WGSL's sin and cos promise only about 2^-11 absolute
// accuracy, and nothing outside [-pi, pi], where rotary angles of late positions fall.
// One invocation per (t, head, i < head_dim / 2).

struct Params {
    n: u32,
    heads: u32,
    head_dim: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> cos_sin: array<f32>;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let half = params.head_dim / 2u;
    let idx = (wid.x + wid.y * nwg.x) * 256u + lid;
    if (idx >= params.n * params.heads * half) {
        return;
    }
    let i = idx % half;
    let row = idx / half; // t * heads + head
    let t = row / params.heads;
    let c = cos_sin[(t * half + i) * 2u];
    let s = cos_sin[(t * half + i) * 2u + 1u];
    let base = row * params.head_dim;
    let a = x[base + i];
    let b = x[base + i + half];
    x[base + i] = a * c - b * s;
    x[base + i + half] = b * c + a * s;
}

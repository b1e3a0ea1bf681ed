//! A model's weights by part, generic over where they live (host arrays for the CPU backend,
//! device buffers for the GPU backend), loaded tensor by tensor from a [`TensorStore`] through
//! the one tensor list of [`super::tensors`] and checked against the config's shapes.

use super::config::ModelConfig;
use super::store::{TensorData, TensorStore};
use super::tensors::{Part, TensorSpec};
use crate::error::{Error, Result};
use crate::quant::blocks::BlockMatrix;
use crate::quant::ggml::GgmlType;
use crate::quant::{WeightFormat, WeightMatrix};

/// A Linear layer: weight [out, in] (+ bias [out]).
#[derive(Debug, Clone)]
pub struct Linear<M, V> {
    /// [out_features, in_features].
    pub weight: M,
    /// [out_features], if the layer has one.
    pub bias: Option<V>,
    /// Output width.
    pub out_features: usize,
    /// Input width.
    pub in_features: usize,
}

/// One decoder layer: matrices of type `M`, norm weights and biases of type `V`.
#[derive(Debug, Clone)]
pub struct LayerWeights<M, V> {
    /// Norm before attention.
    pub input_layernorm: V,
    /// Query projection.
    pub q_proj: Linear<M, V>,
    /// Key projection.
    pub k_proj: Linear<M, V>,
    /// Value projection.
    pub v_proj: Linear<M, V>,
    /// Output projection.
    pub o_proj: Linear<M, V>,
    /// Per-head query norm (q/k-norm families).
    pub q_norm: Option<V>,
    /// Per-head key norm (q/k-norm families).
    pub k_norm: Option<V>,
    /// Norm of the attention output (sandwich-norm families).
    pub post_attention_layernorm: Option<V>,
    /// Norm before the MLP (HF Llama and Qwen2 call it `post_attention_layernorm`).
    pub pre_feedforward_layernorm: V,
    /// Norm of the MLP output (sandwich-norm families).
    pub post_feedforward_layernorm: Option<V>,
    /// MLP gate.
    pub gate_proj: Linear<M, V>,
    /// MLP up.
    pub up_proj: Linear<M, V>,
    /// MLP down.
    pub down_proj: Linear<M, V>,
}

/// All weights of a causal LM.
#[derive(Debug, Clone)]
pub struct Weights<M, V> {
    /// [vocab, hidden].
    pub embed_tokens: M,
    /// Decoder layers.
    pub layers: Vec<LayerWeights<M, V>>,
    /// Final norm [hidden].
    pub norm: V,
    /// LM head [vocab, hidden]; `None` when tied to the embedding.
    pub lm_head: Option<M>,
}

/// Weights in host memory: matrices in the load format, norms and biases in f32.
pub type ModelWeights = Weights<WeightMatrix, Vec<f32>>;

/// Where loaded tensors go: the CPU backend keeps them in host memory, the GPU backend uploads
/// each piece as it arrives (so host memory holds a few rows of one tensor at a time, never the
/// model). Matrices arrive in chunks of rows.
pub trait WeightSink {
    /// A matrix where it lives.
    type Matrix;
    /// A matrix being filled.
    type Partial;
    /// A norm weight or bias where it lives.
    type Vector;
    /// Begins the matrix `spec` [rows, cols] in `format`; `blocks` names the GGUF block type its
    /// rows will arrive in when they are kept as the file's blocks ([`Self::keeps_blocks`]).
    fn start_matrix(
        &mut self,
        spec: &TensorSpec,
        format: WeightFormat,
        blocks: Option<GgmlType>,
    ) -> Result<Self::Partial>;
    /// Takes rows `start..start + rows.rows()` of it, converted to its format.
    fn add_rows(
        &mut self,
        matrix: &mut Self::Partial,
        start: usize,
        rows: WeightMatrix,
    ) -> Result<()>;
    /// Ends it.
    fn finish_matrix(&mut self, matrix: Self::Partial) -> Result<Self::Matrix>;
    /// Takes a vector.
    fn vector(&mut self, spec: &TensorSpec, data: Vec<f32>) -> Result<Self::Vector>;
    /// Whether this sink's backend computes with GGUF blocks of type `ty` as they are (else a
    /// matrix loaded in [`WeightFormat::Gguf`] arrives as q8).
    fn keeps_blocks(&self, ty: GgmlType) -> bool {
        let _ = ty;
        false
    }
}

/// Keeps everything in host memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostSink;

/// A host matrix being filled: the rows so far (the first chunk fixes the storage, which for
/// GGUF blocks is the file's type), or the empty matrix of `format` when no row comes.
pub struct HostPartial {
    rows: Option<WeightMatrix>,
    cols: usize,
    format: WeightFormat,
}

impl WeightSink for HostSink {
    type Matrix = WeightMatrix;
    type Partial = HostPartial;
    type Vector = Vec<f32>;
    fn start_matrix(
        &mut self,
        spec: &TensorSpec,
        format: WeightFormat,
        _blocks: Option<GgmlType>,
    ) -> Result<HostPartial> {
        Ok(HostPartial {
            rows: None,
            cols: spec.shape[1],
            format,
        })
    }
    fn add_rows(&mut self, m: &mut HostPartial, _start: usize, rows: WeightMatrix) -> Result<()> {
        match &mut m.rows {
            Some(so_far) => so_far.append_rows(&rows),
            None => {
                m.rows = Some(rows);
                Ok(())
            }
        }
    }
    fn finish_matrix(&mut self, m: HostPartial) -> Result<WeightMatrix> {
        Ok(m.rows
            .unwrap_or_else(|| WeightMatrix::empty(m.cols, m.format)))
    }
    fn vector(&mut self, _spec: &TensorSpec, data: Vec<f32>) -> Result<Vec<f32>> {
        Ok(data)
    }
    fn keeps_blocks(&self, ty: GgmlType) -> bool {
        BlockMatrix::keeps(ty)
    }
}

/// Values of one chunk of a matrix read at a time (16 MiB of f32).
pub const CHUNK_VALUES: usize = 1 << 22;

/// The format of the embedding and LM head for a model loaded in `format`: q4 keeps them in q8,
/// as llama.cpp's Q4_K_M files do; 4-bit vocabulary matrices cost small models most of their
/// accuracy (measured on Gemma 3 270M: see the note in tests/gemma_real.rs).
/// GGUF files keep their own types for these too.
pub fn vocab_format(format: WeightFormat) -> WeightFormat {
    match format {
        WeightFormat::Q4 => WeightFormat::Q8,
        other => other,
    }
}

/// Reads the tensors of a config from a store into a sink.
struct Loader<'a, T, S> {
    config: &'a ModelConfig,
    store: &'a T,
    sink: &'a mut S,
    format: WeightFormat,
    chunk_values: usize,
}

impl<T: TensorStore, S: WeightSink> Loader<'_, T, S> {
    fn spec(&self, part: Part, layer: Option<usize>) -> Option<TensorSpec> {
        self.config.tensor(part, layer)
    }

    async fn read(&self, spec: &TensorSpec) -> Result<Vec<f32>> {
        let TensorData { shape, data } = self.store.tensor_f32(&spec.name).await?;
        if shape != spec.shape {
            return Err(Error::shape(
                "load",
                format!(
                    "{} has shape {shape:?}, the config implies {:?}",
                    spec.name, spec.shape
                ),
            ));
        }
        Ok(data)
    }

    /// The format a matrix asked for in `format` loads in, and the GGML block type when the
    /// file's blocks are kept: for [`WeightFormat::Gguf`], a type the sink computes with stays,
    /// float tensors keep f32 / f16, anything else is q8.
    fn resolve(
        &self,
        name: &str,
        cols: usize,
        format: WeightFormat,
    ) -> (WeightFormat, Option<GgmlType>) {
        if format != WeightFormat::Gguf {
            return (format, None);
        }
        match self.store.block_type(name) {
            Some(ty) if self.sink.keeps_blocks(ty) && cols.is_multiple_of(ty.block_size()) => {
                (WeightFormat::Gguf, Some(ty))
            }
            Some(GgmlType::F32) => (WeightFormat::F32, None),
            Some(GgmlType::F16 | GgmlType::BF16) => (WeightFormat::F16, None),
            _ => (WeightFormat::Q8, None),
        }
    }

    /// The part's vector, or `None` where the family has none.
    async fn vector(&mut self, part: Part, layer: Option<usize>) -> Result<Option<S::Vector>> {
        let Some(spec) = self.spec(part, layer) else {
            return Ok(None);
        };
        let data = self.read(&spec).await?;
        self.sink.vector(&spec, data).map(Some)
    }

    async fn required_vector(&mut self, part: Part, layer: Option<usize>) -> Result<S::Vector> {
        self.vector(part, layer).await?.ok_or_else(|| {
            Error::Unsupported(format!("{part:?} is missing from this architecture"))
        })
    }

    async fn matrix(&mut self, part: Part, layer: Option<usize>) -> Result<Option<S::Matrix>> {
        let Some(spec) = self.spec(part, layer) else {
            return Ok(None);
        };
        if !spec.required && !self.store.contains(&spec.name) {
            return Ok(None);
        }
        let format = match part {
            Part::EmbedTokens | Part::LmHead => vocab_format(self.format),
            _ => self.format,
        };
        let [rows, cols] = [spec.shape[0], spec.shape[1]];
        let (format, blocks) = self.resolve(&spec.name, cols, format);
        let got = self.store.shape(&spec.name);
        if got.as_deref() != Some(spec.shape.as_slice()) {
            return Err(match got {
                Some(shape) => Error::shape(
                    "load",
                    format!(
                        "{} has shape {shape:?}, the config implies {:?}",
                        spec.name, spec.shape
                    ),
                ),
                None => Error::format("checkpoint", format!("missing tensor {}", spec.name)),
            });
        }
        // Even row counts keep packed halves aligned from chunk to chunk.
        let chunk = ((self.chunk_values / cols.max(1)).max(2) & !1).min(rows.max(1));
        let mut partial = self.sink.start_matrix(&spec, format, blocks)?;
        let mut start = 0;
        while start < rows {
            let end = (start + chunk).min(rows);
            let piece = match blocks {
                Some(ty) => {
                    let data = self.store.rows_blocks(&spec.name, start, end).await?;
                    WeightMatrix::Blocks(BlockMatrix::new(ty, end - start, cols, data)?)
                }
                None => {
                    let data = self.store.rows_f32(&spec.name, start, end).await?;
                    WeightMatrix::from_f32(data, end - start, cols, format)?
                }
            };
            self.sink.add_rows(&mut partial, start, piece)?;
            start = end;
        }
        self.sink.finish_matrix(partial).map(Some)
    }

    async fn linear(
        &mut self,
        weight: Part,
        bias: Option<Part>,
        layer: usize,
    ) -> Result<Linear<S::Matrix, S::Vector>> {
        let spec = self
            .spec(weight, Some(layer))
            .ok_or_else(|| Error::Unsupported(format!("{weight:?} in layer {layer}")))?;
        let weight = self
            .matrix(weight, Some(layer))
            .await?
            .ok_or_else(|| Error::format("checkpoint", format!("missing tensor {}", spec.name)))?;
        let bias = match bias {
            Some(part) => self.vector(part, Some(layer)).await?,
            None => None,
        };
        Ok(Linear {
            weight,
            bias,
            out_features: spec.shape[0],
            in_features: spec.shape[1],
        })
    }

    async fn layer(&mut self, l: usize) -> Result<LayerWeights<S::Matrix, S::Vector>> {
        let layer = Some(l);
        Ok(LayerWeights {
            input_layernorm: self.required_vector(Part::InputLayernorm, layer).await?,
            q_proj: self.linear(Part::QProj, Some(Part::QBias), l).await?,
            k_proj: self.linear(Part::KProj, Some(Part::KBias), l).await?,
            v_proj: self.linear(Part::VProj, Some(Part::VBias), l).await?,
            o_proj: self.linear(Part::OProj, None, l).await?,
            q_norm: self.vector(Part::QNorm, layer).await?,
            k_norm: self.vector(Part::KNorm, layer).await?,
            post_attention_layernorm: self.vector(Part::PostAttentionLayernorm, layer).await?,
            pre_feedforward_layernorm: self
                .required_vector(Part::PreFeedforwardLayernorm, layer)
                .await?,
            post_feedforward_layernorm: self.vector(Part::PostFeedforwardLayernorm, layer).await?,
            gate_proj: self.linear(Part::GateProj, None, l).await?,
            up_proj: self.linear(Part::UpProj, None, l).await?,
            down_proj: self.linear(Part::DownProj, None, l).await?,
        })
    }
}

impl<M, V> Weights<M, V> {
    /// Loads every weight the config's family has, tensor by tensor, converting matrices to
    /// `format` as they arrive (norms and biases stay f32) and handing each to `sink`.
    pub async fn load_into<T, S>(
        config: &ModelConfig,
        store: &T,
        format: WeightFormat,
        sink: &mut S,
    ) -> Result<Self>
    where
        T: TensorStore,
        S: WeightSink<Matrix = M, Vector = V>,
    {
        Self::load_in_chunks(config, store, format, sink, CHUNK_VALUES).await
    }

    /// [`Weights::load_into`], reading matrices about `chunk_values` values at a time.
    pub async fn load_in_chunks<T, S>(
        config: &ModelConfig,
        store: &T,
        format: WeightFormat,
        sink: &mut S,
        chunk_values: usize,
    ) -> Result<Self>
    where
        T: TensorStore,
        S: WeightSink<Matrix = M, Vector = V>,
    {
        let mut loader = Loader {
            config,
            store,
            sink,
            format,
            chunk_values,
        };
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            layers.push(loader.layer(l).await?);
        }
        let embed_tokens = loader
            .matrix(Part::EmbedTokens, None)
            .await?
            .ok_or_else(|| {
                Error::format("checkpoint", "missing tensor model.embed_tokens.weight")
            })?;
        Ok(Self {
            embed_tokens,
            layers,
            norm: loader.required_vector(Part::Norm, None).await?,
            lm_head: loader.matrix(Part::LmHead, None).await?,
        })
    }

    /// The LM head: its own matrix, or the embedding when tied.
    pub fn lm_head(&self) -> &M {
        self.lm_head.as_ref().unwrap_or(&self.embed_tokens)
    }
}

impl ModelWeights {
    /// Loads every weight into host memory (see [`Weights::load_into`]).
    pub async fn load<T: TensorStore>(
        config: &ModelConfig,
        store: &T,
        format: WeightFormat,
    ) -> Result<Self> {
        Self::load_into(config, store, format, &mut HostSink).await
    }
}

impl<M, V> Linear<M, V> {
    fn try_map<M2, V2>(
        &self,
        matrix: &mut impl FnMut(&M) -> Result<M2>,
        vector: &mut impl FnMut(&V) -> Result<V2>,
    ) -> Result<Linear<M2, V2>> {
        Ok(Linear {
            weight: matrix(&self.weight)?,
            bias: self.bias.as_ref().map(&mut *vector).transpose()?,
            out_features: self.out_features,
            in_features: self.in_features,
        })
    }
}

impl<M, V> Weights<M, V> {
    /// The same weights converted part by part (host weights uploaded to a device).
    pub fn try_map<M2, V2>(
        &self,
        mut matrix: impl FnMut(&M) -> Result<M2>,
        mut vector: impl FnMut(&V) -> Result<V2>,
    ) -> Result<Weights<M2, V2>> {
        let (m, v) = (&mut matrix, &mut vector);
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(LayerWeights {
                    input_layernorm: v(&l.input_layernorm)?,
                    q_proj: l.q_proj.try_map(m, v)?,
                    k_proj: l.k_proj.try_map(m, v)?,
                    v_proj: l.v_proj.try_map(m, v)?,
                    o_proj: l.o_proj.try_map(m, v)?,
                    q_norm: l.q_norm.as_ref().map(&mut *v).transpose()?,
                    k_norm: l.k_norm.as_ref().map(&mut *v).transpose()?,
                    post_attention_layernorm: l
                        .post_attention_layernorm
                        .as_ref()
                        .map(&mut *v)
                        .transpose()?,
                    pre_feedforward_layernorm: v(&l.pre_feedforward_layernorm)?,
                    post_feedforward_layernorm: l
                        .post_feedforward_layernorm
                        .as_ref()
                        .map(&mut *v)
                        .transpose()?,
                    gate_proj: l.gate_proj.try_map(m, v)?,
                    up_proj: l.up_proj.try_map(m, v)?,
                    down_proj: l.down_proj.try_map(m, v)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Weights {
            embed_tokens: m(&self.embed_tokens)?,
            layers,
            norm: v(&self.norm)?,
            lm_head: self.lm_head.as_ref().map(&mut *m).transpose()?,
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::RandomStore;

    /// Loading a matrix a few rows at a time gives the same weights as reading it whole, in
    /// every format (odd row counts and f16 fallbacks included).
    #[test]
    fn chunked_loading_equals_whole_loading() {
        let text = r#"{"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
            "vocab_size": 301, "max_position_embeddings": 64}"#;
        let config = ModelConfig::from_hf_json(text).expect("config");
        let store = RandomStore::new(config.clone(), 9);
        for format in [
            WeightFormat::F32,
            WeightFormat::F16,
            WeightFormat::Q8,
            WeightFormat::Q4,
        ] {
            let load = |chunk| {
                crate::block_on(ModelWeights::load_in_chunks(
                    &config,
                    &store,
                    format,
                    &mut HostSink,
                    chunk,
                ))
                .expect("load")
            };
            let (whole, chunked) = (load(usize::MAX), load(3 * 64));
            assert_eq!(whole.embed_tokens, chunked.embed_tokens, "{format:?}");
            let (a, b) = (&whole.layers[0], &chunked.layers[0]);
            assert_eq!(a.down_proj.weight, b.down_proj.weight, "{format:?}");
            assert_eq!(a.q_proj.weight, b.q_proj.weight, "{format:?}");
            assert_eq!(a.q_proj.bias, b.q_proj.bias, "{format:?}");
        }
    }
}

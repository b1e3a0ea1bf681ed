//! Admission: which sequences of an extend call decode this step. A sequence starts only when
//! the KV blocks it could need to reach max_tokens fit beside what the started ones could still
//! need, first come first served, so that started sequences always finish and waiting ones start
//! as blocks free up; a step never fails half-way for lack of blocks.

use super::backend::Backend;
use super::extend::Running;
use super::registry::Engine;
use crate::error::{Error, Result};

impl<B: Backend> Engine<B> {
    /// Blocks `r` could still need: its pending tokens and the tokens it may yet generate.
    fn worst_case(
        &mut self,
        r: &Running,
        max_tokens: usize,
        max_positions: usize,
    ) -> Result<usize> {
        let pending = self.ensure_pending(r.id)?;
        let len = self.state(r.id)?.tokens.len();
        let left = max_tokens
            .saturating_sub(r.out.tokens.len())
            .min(max_positions.saturating_sub(len));
        self.backend
            .blocks()
            .blocks_needed_for(r.id, pending + left)
    }

    /// The indices of the sequences to decode this step (see the module docs).
    pub(super) fn admit(
        &mut self,
        running: &mut [Running],
        max_tokens: usize,
        max_positions: usize,
    ) -> Result<Vec<usize>> {
        let mut free = self.backend.blocks().free_blocks();
        for r in running.iter().filter(|r| r.started && !r.done) {
            free = free.saturating_sub(self.worst_case(r, max_tokens, max_positions)?);
        }
        let mut blocked = None;
        for r in running.iter_mut().filter(|r| !r.started && !r.done) {
            let need = self.worst_case(r, max_tokens, max_positions)?;
            if need > free {
                blocked = Some(need);
                break;
            }
            free -= need;
            r.started = true;
        }
        let admitted: Vec<usize> = (0..running.len())
            .filter(|&i| running[i].started && !running[i].done)
            .collect();
        if admitted.is_empty() {
            return Err(Error::KvCacheFull {
                needed: blocked.unwrap_or(1),
                free: self.backend.blocks().free_blocks(),
            });
        }
        Ok(admitted)
    }
}

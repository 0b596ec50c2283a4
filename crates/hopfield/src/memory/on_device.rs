//! The modern Hopfield network's retrieval as burn tensors on any device (a GPU among them): the
//! same updates, stopping rule and energies as [`ModernHopfield::retrieve`] on host arrays, through
//! [`Keys`] (the energy and update the Hopfield layers use).

use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{invalid, Result};
use crate::layers::Keys;

use super::{ModernHopfield, Retrieval, Retrieve};

impl ModernHopfield<f32> {
    /// [`ModernHopfield::retrieve`] with the patterns and states as f32 tensors on `device`: every
    /// query is updated until it moves by at most the tolerance; a converged query is frozen (its
    /// state no longer changes and its energy is no longer recorded), as on the host. One value per
    /// query (how far it moved) is read back after each update, and the energies when recorded.
    ///
    /// # Errors
    /// Queries that are not B×N or hold NaN/Inf; a negative tolerance or no steps; values the
    /// device cannot give back as f32.
    pub fn retrieve_on(&self, queries: &[f32], opts: &Retrieve, device: &Device) -> Result<Retrieval<f32>> {
        let b = self.batch(queries)?;
        opts.check()?;
        if self.transform() != crate::lagrangian::Transform::Softmax {
            return Err(crate::error::invalid(
                "transform",
                self.transform(),
                "softmax on a device; the sparse transforms (entmax, sparsemax, normmax) compute on the host",
            ));
        }
        let (n, k) = (self.neurons(), self.memories());
        let patterns = Tensor::<3>::from_data(TensorData::new(self.patterns().to_vec(), [1, k, n]), device);
        let keys = Keys::new(patterns, self.beta(), None)?;
        let mut states = Tensor::<3>::from_data(TensorData::new(queries.to_vec(), [1, b, n]), device);
        let energies = |s: &Tensor<3>| read(keys.energy(s.clone()).into_data(), "energies");
        let mut energy: Vec<Vec<f64>> = match opts.record_energy {
            true => energies(&states)?.into_iter().map(|e| vec![e as f64]).collect(),
            false => Vec::new(),
        };
        let mut iterations = vec![opts.max_steps; b];
        let mut active = vec![true; b];
        // [1, B, 1]: true where a query has converged and keeps its state.
        let mut frozen: Option<Tensor<3, burn::tensor::Bool>> = None;
        for it in 1..=opts.max_steps {
            let mut next = keys.update(states.clone());
            if let Some(f) = &frozen {
                next = next.mask_where(f.clone().expand([1, b, n]), states.clone());
            }
            let moved = read((next.clone() - states).abs().max_dim(2).into_data(), "the change of the states")?;
            states = next;
            if opts.record_energy {
                let e = energies(&states)?;
                for q in (0..b).filter(|&q| active[q]) {
                    energy[q].push(e[q] as f64);
                }
            }
            let mut converged = false;
            for q in 0..b {
                if active[q] && moved[q] as f64 <= opts.tolerance {
                    iterations[q] = it;
                    active[q] = false;
                    converged = true;
                }
            }
            if !active.contains(&true) {
                break;
            }
            // The mask goes to the device only when it changed.
            if converged {
                let mask: Vec<bool> = active.iter().map(|a| !a).collect();
                frozen = Some(Tensor::from_data(TensorData::new(mask, [1, b, 1]), device));
            }
        }
        let states = read(states.into_data(), "the final states")?;
        Ok(Retrieval { states, iterations, converged: !active.contains(&true), energy })
    }
}

fn read(t: TensorData, what: &'static str) -> Result<Vec<f32>> {
    t.try_into_vec_as::<f32>().map_err(|e| invalid(what, format!("{e:?}"), "f32 values"))
}

//! Data-parallel training over several devices through burn-train's own multi-device step.
//!
//! A batch is split into one contiguous shard per device. burn-train's [`MultiDevicesTrainStep`]
//! (the worker pool that `ExecutionStrategy::multi` runs) forks the model onto each device and runs
//! the shard's forward and backward there, in parallel; the gradients come back to the first
//! device and are summed with burn's [`GradientsAccumulator`] (the `OptimMainDevice` form), and the
//! task's optimiser takes one step on the sum. The rest of the run — shuffling, masks, evaluation,
//! checkpoints, `metrics.csv`, exact resume — stays in the one training loop ([`crate::trainer`]).
//!
//! Each shard's loss is its own mean weighted by its share of the batch (`n_i / B`), so the summed
//! gradient is the gradient of the whole batch's mean loss: the same step as one device with the
//! whole batch, up to the order of f32 sums. The outputs are summed in shard order (not in the
//! order the workers finish), so a run gives the same bits every time.

use burn::module::{Module, ModuleDisplay};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor};
use burn_train::train::MultiDevicesTrainStep;
use burn_train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};

use crate::error::{invalid, Result, TrainError};
use crate::trainer::scalar;

/// A shard's loss on a replica of the model: its mean loss × its share of the batch, on the device
/// the shard was sent to.
pub type ShardLoss<M> = Box<dyn FnOnce(&M) -> std::result::Result<Tensor<1>, String> + Send>;

/// One device's part of a batch.
pub struct Shard<M> {
    /// Position of the shard in the batch (outputs are summed in this order).
    pub index: usize,
    /// The weighted loss of the shard on the device's replica.
    pub loss: ShardLoss<M>,
}

/// What a worker reports: the shard's weighted loss, or why it could not compute it.
#[derive(Debug, Clone)]
pub struct ShardOutcome {
    index: usize,
    loss: std::result::Result<f64, String>,
}

impl ItemLazy for ShardOutcome {
    fn sync(self) -> std::result::Result<Self, burn::tensor::ExecutionError> {
        Ok(self)
    }
}

/// A model burn-train's workers can fork onto their devices: any module (the derive gives the rest).
pub trait Replicable: Module + ModuleDisplay + 'static {}

impl<M: Module + ModuleDisplay + 'static> Replicable for M {}

/// The model as burn-train's workers see it: a module with a training step.
#[derive(Module, Debug)]
pub struct Replica<M: Replicable> {
    /// The model.
    pub model: M,
}

impl<M: Replicable> TrainStep for Replica<M> {
    type Input = Shard<M>;
    type Output = ShardOutcome;

    fn step(&self, shard: Shard<M>) -> TrainOutput<ShardOutcome> {
        match (shard.loss)(&self.model) {
            Ok(loss) => {
                let value = scalar(loss.clone().detach());
                let grads = loss.backward();
                TrainOutput::new(self, grads, ShardOutcome { index: shard.index, loss: Ok(value) })
            }
            Err(e) => {
                TrainOutput { grads: GradientsParams::new(), item: ShardOutcome { index: shard.index, loss: Err(e) } }
            }
        }
    }
}

impl<M: Replicable> InferenceStep for Replica<M> {
    type Input = Shard<M>;
    type Output = ShardOutcome;

    /// The shard's weighted loss without a backward pass.
    fn step(&self, shard: Shard<M>) -> ShardOutcome {
        let loss = (shard.loss)(&self.model).map(|l| scalar(l.detach()));
        ShardOutcome { index: shard.index, loss }
    }
}

/// A data loader iterator of a single item: one shard for one worker.
struct OneShard<M>(Option<Shard<M>>);

impl<M> Iterator for OneShard<M> {
    type Item = std::result::Result<Shard<M>, burn::data::dataset::DatasetError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.take().map(Ok)
    }
}

impl<M> burn::data::dataloader::DataLoaderIterator<Shard<M>> for OneShard<M> {
    fn progress(&self) -> burn::data::dataloader::Progress {
        burn::data::dataloader::Progress::new(usize::from(self.0.is_none()), 1, None)
    }
}

/// The devices of a data-parallel run and burn-train's workers on them (one per device).
pub struct DataParallel<M: Replicable> {
    devices: Vec<Device>,
    workers: MultiDevicesTrainStep<Replica<M>>,
}

impl<M: Replicable> DataParallel<M> {
    /// Workers on `devices` (autodiff devices; the first is the main one, where gradients are summed
    /// and the optimiser steps). The same device may be named more than once (several workers on the
    /// CPU).
    ///
    /// # Errors
    /// Fewer than two devices.
    pub fn new(devices: &[Device]) -> Result<Self> {
        if devices.len() < 2 {
            return Err(invalid("devices", devices.len(), "at least two devices for data-parallel training"));
        }
        Ok(DataParallel { devices: devices.to_vec(), workers: MultiDevicesTrainStep::new(devices) })
    }

    /// The devices, the main one first.
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// How `batch` examples split over the devices: contiguous ranges, the first `batch % k` one
    /// longer; devices beyond the batch get none.
    pub fn split(&self, batch: usize) -> Vec<std::ops::Range<usize>> {
        split(batch, self.devices.len())
    }

    /// Runs `shards` (at most one per device, shard `i` on device `i`) on the workers and returns the
    /// summed gradients on the main device and the summed weighted losses: the batch's loss.
    ///
    /// # Errors
    /// More shards than devices; a worker that failed (its message and device), or a shard whose
    /// loss could not be computed.
    pub fn gradients(&self, model: &M, shards: Vec<Shard<M>>) -> Result<(GradientsParams, f64)> {
        if shards.len() > self.devices.len() {
            return Err(invalid("shards", shards.len(), format!("at most one per device ({})", self.devices.len())));
        }
        let replica = Replica { model: model.clone() };
        let mut shards = shards.into_iter();
        let mut loaders: Vec<Box<dyn burn::data::dataloader::DataLoaderIterator<Shard<M>>>> =
            (0..self.devices.len()).map(|_| Box::new(OneShard(shards.next())) as Box<_>).collect();
        let (mut outputs, _) =
            self.workers.step(&mut loaders, &replica).map_err(|e| TrainError::Parallel(e.to_string()))?;
        outputs.sort_by_key(|o| o.output.item.index);
        let main = &self.devices[0];
        let mut sum = GradientsAccumulator::<Replica<M>>::new();
        let mut loss = 0.0;
        for o in outputs {
            match o.output.item.loss {
                Ok(value) => loss += value,
                Err(e) => {
                    let device = &self.devices[o.output.item.index];
                    return Err(TrainError::Parallel(format!("shard {} on {device:?}: {e}", o.output.item.index)));
                }
            }
            sum.accumulate(&replica, o.output.grads.to_device(main, &replica));
        }
        Ok((sum.grads(), loss))
    }
}

/// `batch` examples in `parts` contiguous ranges, the first `batch % parts` one longer; empty ranges
/// dropped.
pub fn split(batch: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.max(1);
    let (base, extra) = (batch / parts, batch % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .filter(|r| !r.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_batch_splits_into_contiguous_ranges_that_cover_it_once() {
        assert_eq!(split(32, 2), vec![0..16, 16..32]);
        assert_eq!(split(32, 3), vec![0..11, 11..22, 22..32]);
        assert_eq!(split(2, 3), vec![0..1, 1..2]);
        assert_eq!(split(0, 2), Vec::<std::ops::Range<usize>>::new());
    }
}

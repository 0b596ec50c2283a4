//! Bags of images for multiple-instance learning: drawn from a data set (5–15 images, positive
//! when one shows the target digit), and batched with padding.

use burn::tensor::{Device, Tensor, TensorData};
use hopfield::layers::check_lengths;
use hopfield_data::Dataset;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{invalid, Result};

/// How bags are drawn: `bags` bags of `min_size..=max_size` images drawn uniformly without
/// replacement inside a bag; a bag is positive when it holds an image labelled `target`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BagSpec {
    /// How many bags.
    pub bags: usize,
    /// Fewest instances in a bag.
    pub min_size: usize,
    /// Most instances in a bag.
    pub max_size: usize,
    /// The label that makes a bag positive.
    pub target: u8,
}

/// Bags of instance indices into a data set, with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Bags {
    /// The instances (indices into the data set) of every bag.
    pub instances: Vec<Vec<usize>>,
    /// Whether each bag is positive.
    pub labels: Vec<bool>,
}

impl Bags {
    /// Bags given by the caller: every bag needs at least one instance, every index must lie in a
    /// data set of `len` images, and there is one label per bag.
    pub fn new(instances: Vec<Vec<usize>>, labels: Vec<bool>, len: usize) -> Result<Self> {
        if instances.is_empty() {
            return Err(invalid("bags", 0, "need at least one bag"));
        }
        if labels.len() != instances.len() {
            return Err(invalid("labels", labels.len(), format!("one per bag, {}", instances.len())));
        }
        let lengths: Vec<usize> = instances.iter().map(Vec::len).collect();
        check_lengths(&lengths, instances.len(), usize::MAX)?;
        for (i, bag) in instances.iter().enumerate() {
            if let Some(&j) = bag.iter().find(|&&j| j >= len) {
                return Err(invalid("instance", format!("{j} (bag {i})"), format!("an index below the {len} images")));
            }
        }
        Ok(Bags { instances, labels })
    }

    /// How many bags.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// Whether there are none (never, for bags built by [`Bags::new`] or [`make_bags`]).
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// The fraction of positive bags.
    pub fn positive_fraction(&self) -> f64 {
        self.labels.iter().filter(|&&l| l).count() as f64 / self.len().max(1) as f64
    }
}

impl BagSpec {
    /// Checks the counts and that the data set can supply them.
    pub fn validate(&self, ds: &Dataset) -> Result<()> {
        if self.bags == 0 {
            return Err(invalid("bags", 0, "need at least one bag"));
        }
        if self.min_size == 0 {
            return Err(invalid("min bag size", 0, "a bag with no instances has nothing to pool; use at least 1"));
        }
        if self.max_size < self.min_size {
            return Err(invalid("max bag size", self.max_size, format!("at least the min bag size {}", self.min_size)));
        }
        if ds.len() < self.max_size {
            return Err(invalid(
                "max bag size",
                self.max_size,
                format!("at most the {} images of {}", ds.len(), ds.name()),
            ));
        }
        if !ds.labels().contains(&self.target) {
            return Err(invalid("target", self.target, format!("a label that occurs in {}", ds.name())));
        }
        Ok(())
    }
}

/// Draws `spec.bags` bags from `ds` with a ChaCha8 generator seeded with `seed`.
pub fn make_bags(ds: &Dataset, spec: &BagSpec, seed: u64) -> Result<Bags> {
    spec.validate(ds)?;
    let need = crate::budget::product(&[spec.bags as u128, spec.max_size as u128 + 4, 8]);
    crate::budget::check(&format!("{} bags of up to {} images", spec.bags, spec.max_size), need)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut instances = Vec::with_capacity(spec.bags);
    let mut labels = Vec::with_capacity(spec.bags);
    for _ in 0..spec.bags {
        let size = rng.random_range(spec.min_size..=spec.max_size);
        let bag: Vec<usize> = rand::seq::index::sample(&mut rng, ds.len(), size).into_vec();
        labels.push(bag.iter().any(|&i| ds.labels()[i] == spec.target));
        instances.push(bag);
    }
    Bags::new(instances, labels, ds.len())
}

/// The bags `idx` of `bags` as a zero-padded batch [B, max length, P] and their lengths.
pub fn batch(ds: &Dataset, bags: &Bags, idx: &[usize], device: &Device) -> (Tensor<3>, Vec<usize>) {
    let p = ds.image_len();
    let lengths: Vec<usize> = idx.iter().map(|&i| bags.instances[i].len()).collect();
    let m = lengths.iter().copied().max().unwrap_or(1);
    let mut v = vec![0f32; idx.len() * m * p];
    for (slot, &i) in idx.iter().enumerate() {
        for (row, &j) in bags.instances[i].iter().enumerate() {
            let at = (slot * m + row) * p;
            v[at..at + p].copy_from_slice(&ds.image(j));
        }
    }
    (Tensor::from_data(TensorData::new(v, [idx.len(), m, p]), device), lengths)
}
